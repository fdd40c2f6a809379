#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "nx/io/csv.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

namespace {

using nx::io::CsvOpts;
using nx::io::Missing;
using nx::io::parse_csv;
using nx_test::expect_op_error;

std::vector<double> values(const nx::Tensor& t) { return nx::as_type(t, nx::f64).to_vector<double>(); }

TEST(Csv, InfersIntegerFloatAndBoolColumns) {
  auto t = parse_csv("a,b,c,d,e\n1,2.5,true,7,1\n-3,4,FALSE,9223372036854775807,9223372036854775808\n");
  ASSERT_EQ(t.names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(t["a"].dtype(), nx::i64);
  EXPECT_EQ(t["a"].to_vector<int64_t>(), (std::vector<int64_t>{1, -3}));
  EXPECT_EQ(t["b"].dtype(), nx::f64);
  EXPECT_EQ(t["b"].to_vector<double>(), (std::vector<double>{2.5, 4}));
  EXPECT_EQ(t["c"].dtype(), nx::boolean);
  EXPECT_EQ(values(t["c"]), (std::vector<double>{1, 0}));
  EXPECT_EQ(t["d"].to_vector<int64_t>()[1], INT64_MAX);
  EXPECT_EQ(t["e"].dtype(), nx::f64);  // beyond i64
  EXPECT_EQ(t["e"].to_vector<double>()[1], 9223372036854775808.0);
  EXPECT_EQ(t["a"].shape(), nx::Shape({2}));
}

TEST(Csv, NumberForms) {
  auto t = parse_csv("v,w\n +1.5 ,\t+7\n1e3,-0\n.5,2\ninf,3\n-Infinity,4\n1e400,5\n-1e400,6\n1e-400,7\n");
  EXPECT_EQ(t["v"].to_vector<double>(),
            (std::vector<double>{1.5, 1000, 0.5, nx_test::kInf, -nx_test::kInf, nx_test::kInf, -nx_test::kInf, 0}));
  EXPECT_EQ(t["w"].to_vector<int64_t>(), (std::vector<int64_t>{7, 0, 2, 3, 4, 5, 6, 7}));
  // Subnormals survive.
  EXPECT_EQ(parse_csv("x\n4.9406564584124654e-324\n")["x"].item<double>(), 4.9406564584124654e-324);
  expect_op_error<nx::ValueError>([] { parse_csv("x\n+-1\n"); }, "parse_csv", "'+-1'");
  expect_op_error<nx::ValueError>([] { parse_csv("x\n1.5.5\n"); }, "parse_csv", "'1.5.5'");
}

TEST(Csv, QuotingPerRfc4180) {
  std::string text =
      "\"a,b\",\"say \"\"hi\"\"\",note\n"
      "\"1\",2,\"multi\nline, with \"\"quotes\"\"\"\n"
      "3,\"4.5\" ,plain\n";
  auto t = parse_csv(text, {.columns = {"a,b", "say \"hi\""}});
  ASSERT_EQ(t.names, (std::vector<std::string>{"a,b", "say \"hi\""}));
  EXPECT_EQ(t["a,b"].to_vector<int64_t>(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(t["say \"hi\""].to_vector<double>(), (std::vector<double>{2, 4.5}));
  // The quoted newline counts as a line: the appended bad row is on line 5.
  expect_op_error<nx::ValueError>([&] { parse_csv(text + "x,1,2\n", {.columns = {"a,b"}}); }, "parse_csv",
                                  "line 5: column 'a,b': cannot parse 'x'");
  expect_op_error<nx::ValueError>([] { parse_csv("a\n\"1\n2\n"); }, "parse_csv", "line 2: a quoted field is never closed");
  expect_op_error<nx::ValueError>([] { parse_csv("a,b\n\"1\"x,2\n"); }, "parse_csv", "after a closing quote");
}

TEST(Csv, LineEndingsBomAndBlankLines) {
  std::vector<double> want{1, 2, 3, 4};
  for (std::string text : {"x,y\r\n1,2\r\n3,4\r\n", "x,y\n1,2\n3,4", "\xEF\xBB\xBFx,y\n1,2\n3,4\n",
                           "\n\nx,y\n\n1,2\r\n\r\n3,4\n\n", "x,y\r1,2\r3,4\r"}) {
    auto t = parse_csv(text);
    ASSERT_EQ(t.names, (std::vector<std::string>{"x", "y"})) << text;
    EXPECT_EQ(values(t.matrix()), want) << text;
  }
  // Line numbers count blank lines and CRLF breaks alike.
  expect_op_error<nx::ValueError>([] { parse_csv("x,y\r\n\r\n1,2\r\n3\r\n"); }, "parse_csv",
                                  "line 4: has 1 fields, expected 2 (as in the header)");
}

TEST(Csv, SelectsAndOrdersColumnsWithoutParsingTheRest) {
  std::string text = "name,score,comment,age\nann,1.5,\"likes, commas\",30\nbob,2.5,n/a or \"quotes\",41\n";
  auto t = parse_csv(text, {.columns = {"age", "score"}});
  ASSERT_EQ(t.names, (std::vector<std::string>{"age", "score"}));
  EXPECT_EQ(t.columns[0].to_vector<int64_t>(), (std::vector<int64_t>{30, 41}));
  EXPECT_EQ(t.columns[1].to_vector<double>(), (std::vector<double>{1.5, 2.5}));
  expect_op_error<nx::ValueError>([&] { parse_csv(text); }, "parse_csv", "line 2: column 'name': cannot parse 'ann'");
  expect_op_error<nx::ValueError>([&] { parse_csv(text, {.columns = {"weight"}}); }, "parse_csv",
                                  "no column named 'weight' (the columns are: name, score, comment, age)");
  expect_op_error<nx::ValueError>([&] { parse_csv(text, {.columns = {"age", "age"}}); }, "parse_csv",
                                  "selected twice");
  expect_op_error<nx::ValueError>([] { parse_csv("a,b,a\n1,2,3\n"); }, "parse_csv", "'a' appears more than once");
  EXPECT_EQ(parse_csv("a,b,a\n1,2,3\n", {.columns = {"b"}})["b"].item<int64_t>(), 2);
  EXPECT_THROW(t["score "], nx::ValueError);
}

TEST(Csv, MissingValues) {
  std::string text = "a,b\n1,2\n,NA\nnull,nan\nN/A,None\n";
  expect_op_error<nx::ValueError>([&] { parse_csv(text); }, "parse_csv", "line 3: column 'a': empty field");
  expect_op_error<nx::ValueError>([&] { parse_csv(text, {.columns = {"b"}}); }, "parse_csv",
                                  "line 3: column 'b': missing value 'NA'");
  auto nan = parse_csv(text, {.missing = Missing::fill});
  EXPECT_EQ(nan["a"].dtype(), nx::f64);
  std::vector<double> a = nan["a"].to_vector<double>();
  EXPECT_EQ(a[0], 1);
  EXPECT_TRUE(std::isnan(a[1]) && std::isnan(a[2]) && std::isnan(a[3]));
  auto zero = parse_csv(text, {.missing = Missing::fill, .fill_value = -1});
  EXPECT_EQ(zero["b"].dtype(), nx::i64);  // an integral fill keeps an integer column
  EXPECT_EQ(zero["b"].to_vector<int64_t>(), (std::vector<int64_t>{2, -1, -1, -1}));
  // A leading missing value, then floats; a bool column with a gap becomes numeric.
  EXPECT_EQ(parse_csv("x\n\n \n2.5\n", {.missing = Missing::fill, .fill_value = 0})["x"].to_vector<double>(),
            (std::vector<double>{0, 2.5}));
  EXPECT_EQ(parse_csv("x\ntrue\nNA\n", {.missing = Missing::fill, .fill_value = 0})["x"].to_vector<int64_t>(),
            (std::vector<int64_t>{1, 0}));
  auto forced = parse_csv("x\n1\nNA\n", {.missing = Missing::fill, .fill_value = 0.25, .dtype = nx::f32});
  EXPECT_EQ(forced["x"].to_vector<float>(), (std::vector<float>{1, 0.25f}));
  expect_op_error<nx::ValueError>(
      [] { parse_csv("x\n1\nNA\n", {.missing = Missing::fill, .fill_value = 300, .dtype = nx::u8}); }, "parse_csv",
      "line 3: column 'x'");
}

TEST(Csv, ErrorsNameLineColumnAndText) {
  expect_op_error<nx::ValueError>([] { parse_csv("a,b\n1,2\n3,4,5\n"); }, "parse_csv",
                                  "line 3: has 3 fields, expected 2");
  expect_op_error<nx::ValueError>([] { parse_csv("1,2\n3\n", {.header = false}); }, "parse_csv",
                                  "line 2: has 1 fields, expected 2 (as in the first row)");
  std::string long_text(200, 'z');
  expect_op_error<nx::ValueError>([&] { parse_csv("a,b\n1,2\n3," + long_text + "\n"); }, "parse_csv",
                                  "line 3: column 'b': cannot parse '" + std::string(40, 'z') + "...' as a number");
  expect_op_error<nx::ValueError>([] { parse_csv("a\n1\ntrue\n"); }, "parse_csv", "'true' in a column of numbers");
  expect_op_error<nx::ValueError>([] { parse_csv("a\ntrue\n1\n"); }, "parse_csv", "in a column of true/false");
  expect_op_error<nx::ValueError>([] { parse_csv(""); }, "parse_csv", "there is no header row");
  expect_op_error<nx::ValueError>([] { parse_csv("a\n1\n", {.delimiter = '"'}); }, "parse_csv", "delimiter");
  expect_op_error<nx::ValueError>([] { parse_csv("a\n\x01\x02\n"); }, "parse_csv", "cannot parse '?" "?'");
}

TEST(Csv, NoHeaderAndOtherDelimiters) {
  auto t = parse_csv("1;2.5\n3;4\n", {.delimiter = ';', .header = false});
  ASSERT_EQ(t.names, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(t["0"].to_vector<int64_t>(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(t["1"].to_vector<double>(), (std::vector<double>{2.5, 4}));
  auto tab = parse_csv("1\t2\n", {.delimiter = '\t', .header = false, .columns = {"1"}});
  EXPECT_EQ(tab.columns.size(), 1u);
  EXPECT_EQ(tab["1"].item<int64_t>(), 2);
  EXPECT_TRUE(parse_csv("", {.header = false}).columns.empty());
  auto header_only = parse_csv("a,b\n");
  EXPECT_EQ(header_only["a"].shape(), nx::Shape({0}));
  EXPECT_EQ(header_only.matrix().shape(), nx::Shape({0, 2}));
  EXPECT_EQ(parse_csv("", {.header = false}).matrix().shape(), nx::Shape({0, 0}));
}

TEST(Csv, ForcedDType) {
  std::string text = "a,b\n1,2.5\n3,4\n";
  auto f32 = parse_csv(text, {.dtype = nx::f32});
  EXPECT_EQ(f32["a"].dtype(), nx::f32);
  EXPECT_EQ(f32["b"].to_vector<float>(), (std::vector<float>{2.5f, 4}));
  EXPECT_EQ(parse_csv("x\n0.1\n", {.dtype = nx::f32})["x"].item<float>(), 0.1f);  // rounded once
  for (nx::DType t : {nx::f16, nx::bf16, nx::f64}) {
    auto r = parse_csv(text, {.dtype = t});
    EXPECT_EQ(r["b"].dtype(), t);
    EXPECT_EQ(values(r["b"]), (std::vector<double>{2.5, 4}));
  }
  auto ints = parse_csv("a\n1\n2.0\n1e2\n255\n", {.dtype = nx::u8});
  EXPECT_EQ(ints["a"].dtype(), nx::u8);
  EXPECT_EQ(ints["a"].to_vector<int>(), (std::vector<int>{1, 2, 100, 255}));
  expect_op_error<nx::ValueError>([] { parse_csv("a\n256\n", {.dtype = nx::u8}); }, "parse_csv",
                                  "line 2: column 'a': '256' is not an integer in the range of u8");
  expect_op_error<nx::ValueError>([] { parse_csv("a\n-1\n", {.dtype = nx::u32}); }, "parse_csv", "u32");
  expect_op_error<nx::ValueError>([] { parse_csv("a\n2147483648\n", {.dtype = nx::i32}); }, "parse_csv", "i32");
  expect_op_error<nx::ValueError>([] { parse_csv("a\n1.5\n", {.dtype = nx::i64}); }, "parse_csv", "'1.5'");
  auto b = parse_csv("a\ntrue\n0\n1\nFalse\n", {.dtype = nx::boolean});
  EXPECT_EQ(b["a"].dtype(), nx::boolean);
  EXPECT_EQ(values(b["a"]), (std::vector<double>{1, 0, 1, 0}));
  expect_op_error<nx::ValueError>([] { parse_csv("a\n2\n", {.dtype = nx::boolean}); }, "parse_csv", "not a bool");
  EXPECT_EQ(parse_csv("a\ntrue\n", {.dtype = nx::f64})["a"].item<double>(), 1.0);
}

TEST(Csv, MatrixAndLookup) {
  auto t = parse_csv("a,b,c\n1,2,3\n4,5,6.5\n");
  nx::Tensor m = t.matrix();
  EXPECT_EQ(m.dtype(), nx::f32);
  EXPECT_EQ(m.shape(), nx::Shape({2, 3}));
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));
  EXPECT_EQ(t.matrix(nx::i32).to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  try {
    (void)t["d"];
    ADD_FAILURE() << "no error";
  } catch (const nx::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("no column named 'd'"), std::string::npos) << e.what();
  }
}

TEST(Csv, MatchesNumpySavetxt) {
  std::string dir = std::string(NX_TEST_DATA_DIR) + "/io_csv/";
  auto t = nx::io::load_csv(dir + "table.csv");
  nx::Tensor want = nx::io::load_npy(dir + "table.npy");
  ASSERT_EQ(t.names, (std::vector<std::string>{"id", "x", "y", "big"}));
  EXPECT_EQ(t["id"].dtype(), nx::i64);
  EXPECT_EQ(t["x"].dtype(), nx::f64);
  nx::Tensor got = t.matrix(nx::f64);
  ASSERT_EQ(got.shape(), want.shape());
  std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_EQ(g[i], w[i]) << i;
    EXPECT_EQ(std::signbit(g[i]), std::signbit(w[i])) << i;
  }
  auto tsv = nx::io::load_csv(dir + "noheader.tsv", {.delimiter = '\t', .header = false});
  EXPECT_EQ(tsv.matrix(nx::f64).to_vector<double>(), nx::io::load_npy(dir + "noheader.npy").to_vector<double>());
}

TEST(Csv, LoadsFiles) {
  std::string path = nx_test::temp_path("nx_csv_test.csv");
  {
    std::ofstream f(path, std::ios::binary);
    f << "x,y\n1,2\n3,oops\n";
  }
  EXPECT_EQ(nx::io::load_csv(path, {.columns = {"x"}})["x"].to_vector<int64_t>(), (std::vector<int64_t>{1, 3}));
  expect_op_error<nx::ValueError>([&] { nx::io::load_csv(path); }, "load_csv",
                                  path + ": line 3: column 'y': cannot parse 'oops'");
  std::remove(path.c_str());
  expect_op_error<nx::ValueError>([&] { nx::io::load_csv(path); }, "load_csv", "cannot open");
  expect_op_error<nx::ValueError>([] { nx::io::load_csv(::testing::TempDir()); }, "load_csv", "is a directory");
}

TEST(Csv, HostileInputStaysBounded) {
  // Many columns and many blank lines: the row reservation is bounded by the text size.
  std::string header;
  for (int i = 0; i < 2000; ++i) header += (i ? ",c" : "c") + std::to_string(i);
  auto t = parse_csv(header + std::string(1 << 20, '\n'));
  EXPECT_EQ(t.columns.size(), 2000u);
  EXPECT_EQ(t.columns[0].shape(), nx::Shape({0}));
  // Wide headers: selection is hashed (not quadratic), and the column count is capped.
  std::string wide;
  for (int i = 0; i < 100000; ++i) wide += (i ? ",w" : "w") + std::to_string(i);
  EXPECT_EQ(parse_csv(wide + "\n").columns.size(), 100000u);
  expect_op_error<nx::ValueError>([] { parse_csv(std::string((1 << 20) + 5, ',')); }, "parse_csv",
                                  "line 1: more than 1048576 fields");
  // Random text from CSV-significant characters: parsed or refused, never a crash.
  std::mt19937 rng(42);
  const char alphabet[] = "0123456789.,-+e\"\r\n aN";
  for (int round = 0; round < 3000; ++round) {
    std::string s(rng() % 40, ' ');
    for (char& ch : s) ch = alphabet[rng() % (sizeof(alphabet) - 1)];
    for (Missing m : {Missing::error, Missing::fill}) {
      try {
        auto r = parse_csv(s, {.header = round % 2 == 0, .missing = m});
        for (const nx::Tensor& c : r.columns) EXPECT_EQ(c.rank(), 1);
      } catch (const nx::Error&) {
      }
    }
  }
}

}  // namespace
