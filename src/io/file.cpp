// Whole-file reads and atomic writes with POSIX calls (mmap, fsync, rename).
#include "io/file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "io/json.hpp"
#include "nx/io.hpp"

namespace nx::detail {

std::string quoted_for_error(std::string_view text) {
  constexpr size_t kMax = 100;
  return text.size() <= kMax ? io::json::quote(text) : io::json::quote(text.substr(0, kMax)) + "...";
}

FileBytes read_whole_file(const std::string& path, bool map, const char* op, Where where) {
  auto fail = [&](const std::string& what) {
    throw ValueError(op, "cannot read '" + path + "': " + what, where);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("not a regular file");
  size_t size = static_cast<size_t>(st.st_size);
  FileBytes out;
  if (size == 0) return out;
  if (map) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) fail(std::string("mmap: ") + std::strerror(errno));
    out.keep = std::shared_ptr<void>(p, [size](void* q) { ::munmap(q, size); });
    out.bytes = {static_cast<const std::byte*>(p), size};
    return out;
  }
  // Not value-initialised: zeroing would cost as much as a second pass over the file.
  std::shared_ptr<std::byte[]> buf(new std::byte[size]);
  size_t got = 0;
  while (got < size) {
    ssize_t r = ::read(fd, buf.get() + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(std::strerror(errno));
    if (r == 0) fail("the file shrank while being read");
    got += static_cast<size_t>(r);
  }
  out.bytes = {buf.get(), size};
  out.keep = std::move(buf);
  return out;
}

// ---- AtomicFile ----

namespace {

// `path` with symlinks in its last component followed (to a target that may not exist
// yet), so that renaming over the result replaces the file and keeps the link.
std::string follow_symlinks(std::string path, const char* op, Where where) {
  for (int hops = 0; hops < 40; ++hops) {  // Linux's limit on links in one lookup
    std::vector<char> target(4096);
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return path;  // not a link (or not there): the path itself
    if (static_cast<size_t>(n) == target.size()) throw ValueError(op, "symlink target of '" + path + "' is too long", where);
    std::string next(target.data(), static_cast<size_t>(n));
    size_t slash = path.find_last_of('/');
    // A relative target is relative to the link's directory.
    path = next.front() == '/' || slash == std::string::npos ? next : path.substr(0, slash + 1) + next;
  }
  throw ValueError(op, "too many levels of symlinks at '" + path + "'", where);
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path, const char* op, Where where)
    : path_(follow_symlinks(path, op, where)), op_(op), where_(where) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; fd_ < 0; ++attempt) {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    temp_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
            std::to_string(static_cast<uint64_t>(now) % 1000000007);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno != EEXIST || attempt > 100)) {
      std::string why = std::strerror(errno);
      temp_.clear();
      throw ValueError(op_, "cannot create a temporary file next to '" + path_ + "': " + why, where_);
    }
  }
  // Overwriting keeps the old file's permission bits (a fresh file gets 0666 less the umask).
  struct stat old {};
  if (::stat(path_.c_str(), &old) == 0 && S_ISREG(old.st_mode) && ::fchmod(fd_, old.st_mode & 07777) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd_);  // the destructor does not run for a constructor that throws
    ::unlink(temp_.c_str());
    throw ValueError(op_, "cannot set the mode of '" + temp_ + "': " + why, where_);
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::fail(const std::string& what) {
  std::string why = std::strerror(errno);
  throw ValueError(op_, "cannot write '" + path_ + "': " + what + ": " + why, where_);
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t r = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail("write");
    p += r;
    n -= static_cast<size_t>(r);
  }
}

void AtomicFile::write_at(uint64_t offset, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t r = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail("pwrite");
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("fsync");
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close");
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("rename");
  temp_.clear();
  // Make the rename itself durable.
  size_t slash = path_.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: some file systems refuse fsync on directories
    ::close(dfd);
  }
}

}  // namespace nx::detail

namespace nx::io {

void save_file(const std::string& path, std::string_view bytes, const char* op, Where where) {
  detail::AtomicFile f(path, op, where);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

}  // namespace nx::io
