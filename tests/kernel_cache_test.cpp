// The llvm backend's disk cache of compiled kernels (src/detail/kernel_cache.cpp):
// it runs code it reads, so it refuses directories and files another user could write
// or plant a link in, writes through unpredictable temporary files, never leaves a
// partly written file in place, heals entries that do not link, and stays under its
// size limit by dropping the least recently used files.
#include <gtest/gtest.h>

#include <nx/config.hpp>

#if NX_HAS_LLVM
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "nx/detail/kernel_cache.hpp"
#include "nx/detail/fusion/partition.hpp"
#include "nx/llvm.hpp"
#include "nx/nx.hpp"

namespace {

namespace fs = std::filesystem;
using nx::detail::cache_file;
using nx::detail::cache_object;
using nx::detail::cache_path;
using Fn = std::function<std::vector<nx::Tensor>(const nx::Tensor&, const nx::Tensor&)>;

// A fresh directory for the test (base) with the disk cache at base/cache; the previous
// setting comes back afterwards.
struct TempCache {
  fs::path base, root;
  std::string before = nx::llvm_jit::disk_cache();
  explicit TempCache(const std::string& name)
      : base(fs::temp_directory_path() / ("nx_kernel_cache_" + name + "_" + std::to_string(getpid()))), root(base / "cache") {
    fs::remove_all(base);
    fs::create_directories(base);
    nx::llvm_jit::set_disk_cache(root.string());
    nx::detail::cache_rearm_warning();
  }
  ~TempCache() {
    nx::llvm_jit::set_disk_cache(before);
    std::error_code ec;
    fs::remove_all(base, ec);
  }
};

nx::Tensor input() { return nx::random::uniform(nx::random::key(31), {1000}, {.min = 0.5, .max = 2.0}); }

// f's first output on llvm as a cold start (nothing in memory: loaded or compiled).
std::vector<float> run_cold(const Fn& f) {
  nx::llvm_jit::clear_memory_cache();
  nx::Tensor x = input();
  return nx::jit(f, {.backend = "llvm"})(x, x)[0].to_vector<float>();
}
std::vector<float> run_interp(const Fn& f) {
  nx::Tensor x = input();
  return nx::jit(f, {.backend = "interp"})(x, x)[0].to_vector<float>();
}

// The spec key of f's single kernel, without compiling it.
std::string kernel_key(const Fn& f) {
  nx::Tensor x = input();
  nx::fusion::Partition part = nx::fusion::partition(nx::jit(f).graph(x, x));
  EXPECT_EQ(part.groups.size(), 1u);
  return part.groups.at(0).spec.key();
}

// The cache's one version directory (<root>/llvm/<nx++, LLVM, CPU>), made by a cold
// run of a kernel of its own.
fs::path version_dir(const fs::path& root) {
  run_cold([](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::sqrt(x * 3.0f + 5.0f)}; });
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root / "llvm")) dirs.push_back(e.path());
  EXPECT_EQ(dirs.size(), 1u);
  return dirs.at(0);
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) files.push_back(it->path());
  return files;
}

// Within float rounding of interp (transcendentals are polynomials of their own).
void expect_close(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.0f, std::abs(want[i]))) << i;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes; }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode;
}

int warnings(const std::string& err) {
  int n = 0;
  for (size_t at = err.find("nx++: kernel disk cache"); at != std::string::npos; at = err.find("nx++: kernel disk cache", at + 1)) ++n;
  return n;
}

// Runs f cold twice where the cache must not be used: both compile, neither loads,
// nothing is written, and one warning is printed.
void expect_cache_refused(const Fn& f, const fs::path& dir, const std::string& what) {
  SCOPED_TRACE(what);
  std::vector<float> want = run_interp(f);
  size_t files = files_under(dir).size();
  nx::llvm_jit::CompileStats before = nx::llvm_jit::compile_stats();
  testing::internal::CaptureStderr();
  expect_close(run_cold(f), want);
  expect_close(run_cold(f), want);
  std::string err = testing::internal::GetCapturedStderr();
  nx::llvm_jit::CompileStats after = nx::llvm_jit::compile_stats();
  EXPECT_EQ(after.kernels, before.kernels + 2);
  EXPECT_EQ(after.loaded, before.loaded);
  EXPECT_EQ(files_under(dir).size(), files);
  EXPECT_EQ(warnings(err), 1) << err;
}

Fn kernel_a = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::log(x * 5.0f + 2.0f) - x}; };

TEST(KernelCache, MakesDirectoriesOnlyTheUserCanWrite) {
  TempCache cache("private");
  fs::path root = cache.base / "missing" / "cache";  // a missing level above the root too
  nx::llvm_jit::set_disk_cache(root.string());
  mode_t old_umask = ::umask(002);  // a group-writable default must not widen the cache
  fs::path dir = version_dir(root);
  ::umask(old_umask);
  for (const fs::path& p : {cache.base / "missing", root, root / "llvm", dir}) EXPECT_EQ(mode_of(p) & 07777, 0700u) << p;
  for (const fs::path& f : files_under(dir)) EXPECT_EQ(mode_of(f) & 077, 0u) << f;
}

TEST(KernelCache, RefusesDirectoriesOthersCanWrite) {
  for (mode_t mode : {mode_t{0777}, mode_t{0775}}) {
    for (int level = 0; level < 2; ++level) {
      TempCache cache("writable" + std::to_string(level));
      fs::path dir = version_dir(cache.root);
      fs::path target = level == 0 ? cache.root : dir;
      ASSERT_EQ(::chmod(target.c_str(), mode), 0);
      expect_cache_refused(kernel_a, cache.root, "mode " + std::to_string(mode) + " on " + target.string());
    }
  }
}

TEST(KernelCache, RefusesDirectoriesOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  for (int level = 0; level < 2; ++level) {
    TempCache cache("foreign" + std::to_string(level));
    fs::path dir = version_dir(cache.root);
    fs::path target = level == 0 ? cache.root : dir;
    if (::chown(target.c_str(), 65534, 65534) != 0) GTEST_SKIP() << "cannot give uid 65534 a directory: " << std::strerror(errno);
    expect_cache_refused(kernel_a, cache.root, "owned by 65534: " + target.string());
  }
}

// A cache file another user could have written (mode 0666, someone else's, a link) is a
// miss, with a warning, and is replaced by a file of ours.
TEST(KernelCache, RefusesFilesOthersCanWriteOwnOrLinkTo) {
  for (int plant = 0; plant < 3; ++plant) {
    if (plant == 1 && ::geteuid() != 0) continue;  // needs root to give a file away
    SCOPED_TRACE(plant);
    TempCache cache("file" + std::to_string(plant));
    fs::path dir = version_dir(cache.root);
    fs::path file = cache_path(dir.string(), kernel_key(kernel_a));
    std::vector<float> want = run_interp(kernel_a);
    expect_close(run_cold(kernel_a), want);
    ASSERT_TRUE(fs::is_regular_file(file));
    fs::path victim = cache.base / "victim";
    std::string good = read(file);
    if (plant == 0) {
      ASSERT_EQ(::chmod(file.c_str(), 0666), 0);
    } else if (plant == 1) {
      if (::chown(file.c_str(), 65534, 65534) != 0) continue;  // no such uid here (a user namespace)
    } else {
      fs::rename(file, victim);  // a valid entry, but reached through a link
      fs::create_symlink(victim, file);
    }
    nx::llvm_jit::CompileStats before = nx::llvm_jit::compile_stats();
    testing::internal::CaptureStderr();
    expect_close(run_cold(kernel_a), want);
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(nx::llvm_jit::compile_stats().kernels, before.kernels + 1);
    EXPECT_EQ(nx::llvm_jit::compile_stats().loaded, before.loaded);
    EXPECT_EQ(warnings(err), 1) << err;
    EXPECT_TRUE(S_ISREG(mode_of(file)));
    EXPECT_EQ(mode_of(file) & 077, 0u);
    if (plant == 2) {
      EXPECT_EQ(read(victim), good);  // followed nowhere
    }
  }
}

// Temporary files used to be <final>.tmp<pid>.<serial>: a link planted there made the
// store overwrite whatever it pointed at.
TEST(KernelCache, StoresDoNotFollowLinksAtPredictableNames) {
  TempCache cache("tmpnames");
  fs::path dir = version_dir(cache.root);
  fs::path victim = cache.base / "victim";
  write(victim, "precious");
  std::string key = "planted-links-test-key";
  std::string final_path = cache_path(dir.string(), key);
  for (int serial = 0; serial < 4096; ++serial)
    fs::create_symlink(victim, final_path + ".tmp" + std::to_string(getpid()) + "." + std::to_string(serial));
  nx::detail::cache_store(dir.string(), key, std::string(3000, 'o'));
  EXPECT_EQ(read(victim), "precious");
  EXPECT_EQ(nx::detail::cache_load(dir.string(), key), std::string(3000, 'o'));
}

// A write that fails part way (a full disk; here the file size limit, which fails
// write(2) the same way) leaves no file behind, neither the entry nor a temporary.
TEST(KernelCache, FailedWritesLeaveNoFile) {
  TempCache cache("full");
  fs::path dir = version_dir(cache.root);
  size_t files = files_under(dir).size();
  std::string key = "full-disk-test-key", object(600, 'o');
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit tiny = old_limit;
  tiny.rlim_cur = 200;
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // write(2) fails with EFBIG instead
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
  nx::detail::cache_store(dir.string(), key, object);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(fs::exists(fs::symlink_status(cache_path(dir.string(), key))));
  EXPECT_EQ(files_under(dir).size(), files);
  nx::detail::cache_store(dir.string(), key, object);  // room again: it stores
  EXPECT_EQ(nx::detail::cache_load(dir.string(), key), object);
}

// An intact file (its checksum holds) whose object does not link, garbage or another
// kernel's, is a miss: the kernel compiles, and the file is rewritten to load next time.
// The kernels here appear in no other test, so this process has not linked them.
TEST(KernelCache, EntriesThatDoNotLinkAreCompiledAndRewritten) {
  TempCache cache("unlinkable");
  fs::path dir = version_dir(cache.root);
  Fn other = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::expm1(x * 0.375f) + nx::floor(x)}; };
  expect_close(run_cold(other), run_interp(other));
  std::optional<std::string> other_object = cache_object(read(cache_path(dir.string(), kernel_key(other))), kernel_key(other));
  ASSERT_TRUE(other_object);
  Fn garbage_fn = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::tanh(x * 0.625f) * nx::ceil(x) - 3.0f}; };
  Fn foreign_fn = [](const nx::Tensor& x, const nx::Tensor&) { return std::vector{nx::rsqrt(x + 0.125f) * nx::round(x) + 7.0f}; };
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind == 0 ? "garbage object" : "another kernel's object");
    const Fn& f = kind == 0 ? garbage_fn : foreign_fn;
    std::string key = kernel_key(f);
    fs::path file = cache_path(dir.string(), key);
    write(file, cache_file(key, kind == 0 ? std::string("garbage") : *other_object));
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    std::vector<float> want = run_interp(f);
    nx::llvm_jit::CompileStats before = nx::llvm_jit::compile_stats();
    EXPECT_NO_THROW(expect_close(run_cold(f), want));
    EXPECT_EQ(nx::llvm_jit::compile_stats().kernels, before.kernels + 1);
    std::optional<std::string> rewritten = cache_object(read(file), key);
    ASSERT_TRUE(rewritten);
    EXPECT_NE(*rewritten, "garbage");
    EXPECT_NE(*rewritten, *other_object);
    expect_close(run_cold(f), want);  // and the next cold start loads it
    EXPECT_EQ(nx::llvm_jit::compile_stats().loaded, before.loaded + 1);
  }
}

void set_mtime(const fs::path& p, time_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
}
uint64_t bytes_under(const fs::path& dir) {
  uint64_t total = 0;
  for (const fs::path& f : files_under(dir)) total += fs::file_size(f);
  return total;
}

// Over the limit, the least recently used files go first (a load counts as a use), and
// version directories left empty go too.
TEST(KernelCache, TrimsTheLeastRecentlyUsedFilesToTheLimit) {
  TempCache cache("trim");
  fs::path dir = version_dir(cache.root);
  for (const fs::path& f : files_under(dir)) fs::remove(f);
  fs::path stale = cache.root / "llvm" / "nx0.0-stale-version";
  ASSERT_EQ(::mkdir(stale.c_str(), 0700), 0);
  for (int k = 0; k < 2; ++k) {
    write(stale / ("old" + std::to_string(k) + ".o"), std::string(1000, 's'));
    set_mtime(stale / ("old" + std::to_string(k) + ".o"), 500);
  }
  std::vector<std::string> keys;
  for (int k = 0; k < 4; ++k) {
    keys.push_back("trim-key-" + std::to_string(k));
    nx::detail::cache_store(dir.string(), keys.back(), std::string(1000, 'o'));
    set_mtime(cache_path(dir.string(), keys.back()), 1000 * (k + 1));
  }
  ASSERT_TRUE(nx::detail::cache_load(dir.string(), keys[0]));  // now the most recently used
  uint64_t file_size = fs::file_size(cache_path(dir.string(), keys[0]));
  size_t old_limit = nx::llvm_jit::disk_cache_limit();
  nx::llvm_jit::set_disk_cache_limit(file_size * 5 / 2);
  nx::detail::cache_trim((cache.root / "llvm").string());
  nx::llvm_jit::set_disk_cache_limit(old_limit);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(cache_path(dir.string(), keys[0])));
  EXPECT_FALSE(fs::exists(cache_path(dir.string(), keys[1])));
  EXPECT_FALSE(fs::exists(cache_path(dir.string(), keys[2])));
  EXPECT_TRUE(fs::exists(cache_path(dir.string(), keys[3])));
  EXPECT_LE(bytes_under(cache.root), file_size * 5 / 2);
}

// Compiling kernels keeps the cache under its limit without being asked.
TEST(KernelCache, CompilesKeepTheCacheUnderItsLimit) {
  TempCache cache("limit");
  fs::path dir = version_dir(cache.root);
  fs::path stale = cache.root / "llvm" / "nx0.0-stale-version";
  ASSERT_EQ(::mkdir(stale.c_str(), 0700), 0);
  write(stale / "old.o", std::string(1000, 's'));
  set_mtime(stale / "old.o", 500);
  uint64_t limit = 3 * fs::file_size(files_under(dir).at(0));
  size_t old_limit = nx::llvm_jit::disk_cache_limit();
  nx::llvm_jit::set_disk_cache_limit(limit);
  for (float c : {2.0f, 3.0f, 4.0f, 5.0f}) {
    // Kernels of different structure (constants are inputs, so a value alone would not do).
    Fn f = [c](const nx::Tensor& x, const nx::Tensor&) {
      nx::Tensor y = x;
      for (int k = 0; k < static_cast<int>(c); ++k) y = nx::sqrt(y + c);
      return std::vector{y};
    };
    expect_close(run_cold(f), run_interp(f));
  }
  nx::llvm_jit::set_disk_cache_limit(old_limit);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_LE(bytes_under(cache.root), limit);
  EXPECT_FALSE(files_under(dir).empty());
}

}  // namespace
#endif
