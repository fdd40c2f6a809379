// Numeric CSV -> one tensor per column. RFC 4180 quoting, LF or CRLF, an optional UTF-8
// BOM; every malformed row is an nx::ValueError naming its line.
//
//   nx::io::CsvTable t = nx::io::load_csv("iris.csv", {.columns = {"sepal_len", "petal_len"}});
//   nx::Tensor x = t.matrix();          // (rows, 2) f32
//   nx::Tensor y = t["petal_len"];      // (rows) f64 or i64, as inferred
#pragma once
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nx/tensor.hpp"

namespace nx::io {

// What a missing value (an empty field, or NA, N/A, NaN, null, None in any case) becomes.
enum class Missing { error, fill };

struct CsvOpts {
  char delimiter = ',';
  bool header = true;                 // the first row holds column names (else "0", "1", ...)
  std::vector<std::string> columns;   // the columns to read, in this order; empty: all
  Missing missing = Missing::error;
  double fill_value = std::numeric_limits<double>::quiet_NaN();
  // Every column becomes this dtype. Unset: a column is i64 when every value is an integer
  // literal that fits, bool when every value is true/false, else f64.
  std::optional<DType> dtype;
};

struct CsvTable {
  std::vector<std::string> names;
  std::vector<Tensor> columns;  // each of shape (rows)

  // The column called `name`; nx::ValueError when there is none.
  const Tensor& operator[](const std::string& name) const;
  // All columns side by side, shape (rows, columns), converted to `dtype`.
  Tensor matrix(DType dtype = f32, Where where = Where::current()) const;
};

// Blank lines are skipped. Numbers may have surrounding spaces and a leading '+';
// values beyond the f64 range become +-inf or 0.
CsvTable load_csv(const std::string& path, CsvOpts opts = {}, Where where = Where::current());
CsvTable parse_csv(std::string_view text, CsvOpts opts = {}, Where where = Where::current());

}  // namespace nx::io
