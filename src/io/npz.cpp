// .npz: each tensor becomes "<name>.npy" in a zip archive (see io_zip.cpp for the container).
#include "io/file.hpp"
#include "io/zip.hpp"
#include "nx/io/npz.hpp"

namespace nx::io {
namespace {

constexpr std::string_view kSuffix = ".npy";


}  // namespace

std::vector<std::byte> encode_npz(const TensorDict& arrays, NpzOpts opts, Where where) {
  detail::ZipWriter zip("save_npz", where);
  for (const auto& [name, t] : arrays) {
    std::vector<std::byte> npy;
    try {
      npy = encode_npy(t, where);
    } catch (const Error& e) {
      throw ValueError("save_npz", "array '" + name + "': " + e.detail(), where);
    }
    zip.add(name + std::string(kSuffix), npy, opts.compress);
  }
  return zip.finish();
}

TensorDict decode_npz(std::span<const std::byte> bytes, Where where) {
  std::vector<detail::ZipEntry> entries = detail::zip_entries(bytes, "load_npz", where);
  // Check every name before inflating anything.
  for (const detail::ZipEntry& e : entries)
    if (!e.name.ends_with(kSuffix))
      throw ValueError("load_npz", "member '" + e.name + "' is not a .npy file (an .npz holds only .npy members)",
                       where);
  TensorDict out;
  for (const detail::ZipEntry& e : entries) {
    detail::ZipMember member(bytes, e, "load_npz", where);
    Tensor t;
    try {
      t = decode_npy(member.bytes(), where);
    } catch (const Error& err) {
      throw ValueError("load_npz", "member '" + e.name + "': " + err.detail(), where);
    }
    out.emplace(e.name.substr(0, e.name.size() - kSuffix.size()), std::move(t));
  }
  return out;
}

void save_npz(const std::string& path, const TensorDict& arrays, NpzOpts opts, Where where) {
  std::vector<std::byte> bytes = encode_npz(arrays, opts, where);
  detail::AtomicFile f(path, "save_npz", where);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

TensorDict load_npz(const std::string& path, Where where) {
  detail::FileBytes file = detail::read_whole_file(path, /*mmap=*/false, "load_npz", where);
  try {
    return decode_npz(file.bytes, where);
  } catch (const Error& e) {
    throw ValueError("load_npz", path + ": " + e.detail(), where);
  }
}

}  // namespace nx::io
