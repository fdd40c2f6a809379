#include "nx/detail/kernel_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>


namespace nx::detail {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'N', 'X', 'K', 'E', 'R', 'N', '1', '\n'};
// No kernel's object comes near this: a larger file is damaged, and is not read.
constexpr off_t kMaxFileBytes = off_t{64} << 20;
constexpr uint64_t kDefaultLimitBytes = uint64_t{256} << 20;

void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
bool get_u64(std::string_view& s, uint64_t& v) {
  if (s.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(s[static_cast<size_t>(i)])} << (8 * i);
  s.remove_prefix(8);
  return true;
}

std::atomic<bool> warned{false};

// The cache is not used where another user could have planted code: said once per
// process, since every kernel would say it again.
void refuse(const std::string& path, const char* why) {
  if (!warned.exchange(true))
    std::fprintf(stderr,
                 "nx++: kernel disk cache: not using %s (%s); kernels are compiled instead. The cache must be yours "
                 "and writable by you alone (chmod go-w), or delete it.\n",
                 path.c_str(), why);
}

// Why st cannot be trusted, or nullptr: it must be of `type`, ours, and writable by
// nobody else (who could otherwise write code into it, or swap it).
const char* untrusted(const struct stat& st, mode_t type) {
  if ((st.st_mode & S_IFMT) != type) return type == S_IFDIR ? "not a directory" : "not a regular file";
  if (st.st_uid != ::geteuid()) return "owned by another user";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return "writable by group or others";
  return nullptr;
}

// mkdir -p, each level it makes with mode 0700 (a umask can only narrow that, where
// create_directories' 0777 becomes 0775 under umask 002).
bool make_private_dirs(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT) return false;
  size_t slash = path.find_last_of('/');
  if (slash == 0 || slash == std::string::npos) return false;
  return make_private_dirs(path.substr(0, slash)) && (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST);
}

std::optional<std::string> read_entry(int fd, const std::string& path, std::string_view key) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::nullopt;
  if (const char* why = untrusted(st, S_IFREG)) {
    refuse(path, why);
    return std::nullopt;
  }
  if (st.st_size > kMaxFileBytes) return std::nullopt;
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  for (size_t got = 0; got < bytes.size();) {
    ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // an error, or the file shrank
    got += static_cast<size_t>(n);
  }
  std::optional<std::string> object = cache_object(bytes, key);
  // A hit is a use: trimming deletes the least recently modified files first. Failing
  // only lets the entry age.
  if (object) (void)::futimens(fd, nullptr);
  return object;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::atomic<uint64_t>& limit_bytes() {
  static std::atomic<uint64_t> limit = [] {
    const char* env = std::getenv("NX_CACHE_MAX_BYTES");
    if (!env || !std::isdigit(static_cast<unsigned char>(*env))) return kDefaultLimitBytes;
    char* end = nullptr;
    errno = 0;
    unsigned long long bytes = std::strtoull(env, &end, 10);
    return *end || errno ? kDefaultLimitBytes : uint64_t{bytes};
  }();
  return limit;
}

// Keeps the cache under its limit without scanning it at every store: each process
// scans at its first store into a cache, then when its own stores since could have
// taken it past the limit, or added a sixteenth of it (what other processes stored
// shows at the next scan).
void note_stored(const std::string& dir, uint64_t bytes) {
  static std::mutex mu;
  static std::string scanned;  // the backend directory last scanned
  static uint64_t total = 0, since_scan = 0;
  std::string backend_dir = fs::path(dir).parent_path().string();
  uint64_t limit = limit_bytes();
  std::lock_guard lock(mu);
  total += bytes;
  since_scan += bytes;
  if (scanned == backend_dir && total <= limit && since_scan <= limit / 16) return;
  scanned = backend_dir;
  total = cache_trim(backend_dir);
  since_scan = 0;
}

}  // namespace

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

std::string default_cache_root() {
  if (const char* d = std::getenv("NX_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/nxpp";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/nxpp";
  return "";
}

// Layout: magic, key size, key, object size, object checksum, object.
std::string cache_file(std::string_view key, std::string_view object) {
  std::string file(kMagic, sizeof kMagic);
  put_u64(file, key.size());
  file += key;
  put_u64(file, object.size());
  put_u64(file, fnv1a(object));
  file += object;
  return file;
}

std::optional<std::string> cache_object(std::string_view s, std::string_view key) {
  uint64_t key_size = 0, object_size = 0, sum = 0;
  if (s.size() < sizeof kMagic || std::memcmp(s.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  s.remove_prefix(sizeof kMagic);
  if (!get_u64(s, key_size) || key_size > s.size() || s.substr(0, key_size) != key) return std::nullopt;
  s.remove_prefix(key_size);
  if (!get_u64(s, object_size) || !get_u64(s, sum) || object_size != s.size() || fnv1a(s) != sum) return std::nullopt;
  return std::string(s);
}

std::string cache_open_dir(const std::string& root, const std::string& backend, const std::string& version) {
  std::string backend_dir = root + "/" + backend, dir = backend_dir + "/" + version;
  if (!make_private_dirs(dir)) return "";  // a read-only disk, say: no cache, as with ""
  // The root may be a link (to another disk); the levels under it are the cache's own.
  struct Level {
    const std::string& path;
    bool follow_link;
  };
  for (const Level& level : {Level{root, true}, Level{backend_dir, false}, Level{dir, false}}) {
    struct stat st {};
    if ((level.follow_link ? ::stat(level.path.c_str(), &st) : ::lstat(level.path.c_str(), &st)) != 0) return "";
    if (const char* why = untrusted(st, S_IFDIR)) {
      refuse(level.path, why);
      return "";
    }
  }
  return dir;
}

std::string cache_path(const std::string& dir, const std::string& key) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.o", static_cast<unsigned long long>(fnv1a(key)));
  return dir + "/" + name;
}

std::optional<std::string> cache_load(const std::string& dir, const std::string& key) {
  std::string path = cache_path(dir, key);
  // O_NOFOLLOW: a link in the file's place is not followed. O_NONBLOCK: nor does a fifo
  // there block the open (fstat then refuses it).
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) refuse(path, "a symbolic link");
    return std::nullopt;
  }
  std::optional<std::string> object = read_entry(fd, path, key);
  ::close(fd);  // read-only: nothing to lose
  return object;
}

void cache_store(const std::string& dir, const std::string& key, std::string_view object) {
  std::string file = cache_file(key, object);
  // A new file under an unpredictable name (O_EXCL: a link planted there is not
  // followed), mode 0600.
  std::string temp = dir + "/.tmp-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return;
  // Whole and on disk before it takes the entry's name, so a full disk or a crash never
  // leaves a partial file in its place.
  bool written = write_all(fd, file) && ::fsync(fd) == 0;
  written = ::close(fd) == 0 && written;
  if (!written || ::rename(temp.c_str(), cache_path(dir, key).c_str()) != 0) {
    ::unlink(temp.c_str());  // if this fails too, trimming deletes it in time
    return;
  }
  note_stored(dir, file.size());
}

uint64_t cache_trim(const std::string& backend_dir) {
  struct Entry {
    fs::path path;
    fs::file_time_type modified;
    uint64_t bytes;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  // Links are neither followed nor deleted: only what the cache made is counted.
  for (fs::directory_iterator version(backend_dir, ec), end; !ec && version != end; version.increment(ec)) {
    std::error_code file_ec;
    if (version->symlink_status(file_ec).type() != fs::file_type::directory) continue;
    for (fs::directory_iterator file(version->path(), file_ec); !file_ec && file != end; file.increment(file_ec)) {
      std::error_code stat_ec;
      if (file->symlink_status(stat_ec).type() != fs::file_type::regular) continue;
      Entry e{file->path(), file->last_write_time(stat_ec), file->file_size(stat_ec)};
      if (stat_ec) continue;  // gone meanwhile
      total += e.bytes;
      entries.push_back(std::move(e));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.modified < b.modified; });
  uint64_t limit = limit_bytes();
  std::vector<fs::path> emptied;
  for (const Entry& e : entries) {
    if (total <= limit) break;
    std::error_code remove_ec;
    if (!fs::remove(e.path, remove_ec)) continue;
    total -= e.bytes;
    if (emptied.empty() || emptied.back() != e.path.parent_path()) emptied.push_back(e.path.parent_path());
  }
  for (const fs::path& dir : emptied) ::rmdir(dir.c_str());  // fails, as it should, unless empty
  return total;
}

void cache_rearm_warning() { warned = false; }

void set_cache_limit(uint64_t bytes) { limit_bytes() = bytes; }
uint64_t cache_limit() { return limit_bytes().load(); }

}  // namespace nx::detail

