#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <limits>
#include <random>
#include <thread>

#include "nx/io/checkpoint.hpp"
#include "nx/io/safetensors.hpp"
#include "nx/io/state_dict.hpp"
#include "nx/nx.hpp"
#include "test_support.hpp"

// An optimizer state with its own TreeTraits: opaque to state dicts, its leaves are numbered.
struct AdamState {
  nx::Tensor m, v;
};
template <> struct nx::TreeTraits<AdamState> {
  static void flatten(const AdamState& a, std::vector<nx::Tensor>& out, std::vector<int64_t>&) {
    out.push_back(a.m);
    out.push_back(a.v);
  }
  static AdamState unflatten(const AdamState&, const nx::Tensor*& it) {
    AdamState a;
    a.m = *it++;
    a.v = *it++;
    return a;
  }
};

namespace {

using nx_test::expect_op_error;
using Bytes = std::vector<std::byte>;
namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/nx_ckpt_" + std::to_string(::getpid()) + "_" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void expect_same(const nx::Tensor& got, const nx::Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  EXPECT_EQ(got.dtype(), want.dtype()) << what;
  EXPECT_EQ(got.shape(), want.shape()) << what;
  EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>()) << what;
}

void expect_same_dict(const nx::io::TensorDict& got, const nx::io::TensorDict& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [k, v] : want) {
    ASSERT_EQ(got.count(k), 1u) << k;
    expect_same(got.at(k), v, k);
  }
}

void expect_same_checkpoint(const nx::io::Checkpoint& got, const nx::io::Checkpoint& want) {
  expect_same_dict(got.params, want.params);
  expect_same_dict(got.optimizer_state, want.optimizer_state);
  EXPECT_EQ(got.step, want.step);
  EXPECT_EQ(got.metadata, want.metadata);
}

nx::io::Checkpoint sample(int64_t step) {
  nx::io::Checkpoint c;
  c.params["w"] = nx::as_type(nx::reshape(nx::iota({6}), {2, 3}), nx::f32);
  c.params["layers.0.b"] = nx::as_type(nx::iota({3}), nx::bf16);
  c.params["flag"] = nx::as_type(nx::iota({2}), nx::boolean);
  c.optimizer_state["m"] = nx::full({4}, -0.5, nx::f64);
  c.optimizer_state["count"] = nx::scalar(7, nx::i64);
  c.optimizer_state["empty"] = nx::zeros({0, 5}, nx::u32);
  c.step = step;
  c.metadata = {{"lr", "0.001"}, {"", "empty key"}, {"note", "\xe2\x9c\x93 \"quoted\""}};
  return c;
}

TEST(Checkpoint, RoundTripsInMemoryAndThroughFiles) {
  for (int64_t step : {int64_t{0}, int64_t{-5}, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    nx::io::Checkpoint c = sample(step);
    expect_same_checkpoint(nx::io::decode_checkpoint(nx::io::encode_checkpoint(c)), c);
  }
  std::string dir = temp_dir("roundtrip");
  std::string path = dir + "/ckpt.safetensors";
  nx::io::save_checkpoint(path, sample(41));
  nx::io::save_checkpoint(path, sample(42));  // replaces the previous one
  expect_same_checkpoint(nx::io::load_checkpoint(path), sample(42));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "no temporary files left";
  nx::io::Checkpoint empty;
  expect_same_checkpoint(nx::io::decode_checkpoint(nx::io::encode_checkpoint(empty)), empty);
  fs::remove_all(dir);
}

TEST(Checkpoint, FileAndMemoryFormsAreTheSameBytes) {
  std::string dir = temp_dir("same");
  nx::io::save_checkpoint(dir + "/c", sample(3));
  std::ifstream f(dir + "/c", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Bytes enc = nx::io::encode_checkpoint(sample(3));
  ASSERT_EQ(s.size(), enc.size());
  EXPECT_EQ(std::memcmp(s.data(), enc.data(), s.size()), 0);
  fs::remove_all(dir);
}

TEST(Checkpoint, IsAnOrdinarySafetensorsFile) {
  nx::io::Safetensors f = nx::io::decode_safetensors(nx::io::encode_checkpoint(sample(42)));
  EXPECT_EQ(f.tensors.count("params.w"), 1u);
  EXPECT_EQ(f.tensors.count("params.layers.0.b"), 1u);
  EXPECT_EQ(f.tensors.count("optimizer_state.m"), 1u);
  EXPECT_EQ(f.metadata.at("nx.format"), "nx-checkpoint-1");
  EXPECT_EQ(f.metadata.at("nx.step"), "42");
  EXPECT_EQ(f.metadata.at("user.lr"), "0.001");
  EXPECT_EQ(f.metadata.at("nx.checksum").size(), 16u);
}

// Every single-byte change is caught, by the checksum or by the format checks.
TEST(Checkpoint, DetectsEveryChangedByte) {
  nx::io::Checkpoint c;
  c.params["w"] = nx::as_type(nx::iota({3, 2}), nx::f32);
  c.optimizer_state["m"] = nx::as_type(nx::iota({5}), nx::u8);
  c.step = 9;
  Bytes good = nx::io::encode_checkpoint(c);
  for (size_t i = 0; i < good.size(); ++i)
    for (unsigned char mask : {0x01, 0x20, 0x80}) {
      Bytes b = good;
      b[i] ^= std::byte{mask};
      EXPECT_THROW(nx::io::decode_checkpoint(b), nx::ValueError) << "byte " << i << " ^ " << int(mask);
    }
  Bytes b = good;
  b.back() ^= std::byte{1};
  expect_op_error<nx::ValueError>([&] { nx::io::decode_checkpoint(b); }, "decode_checkpoint",
                                  "checksum mismatch: the file is corrupt or was modified");
}

// A checkpoint-like safetensors file with a correct checksum, for the format checks behind it.
Bytes sealed(const nx::io::TensorDict& tensors, std::map<std::string, std::string> meta) {
  std::string placeholder(16, '0');
  if (!meta.count("nx.checksum")) meta["nx.checksum"] = placeholder;
  Bytes b = nx::io::encode_safetensors(tensors, meta);
  std::string s(reinterpret_cast<const char*>(b.data()), b.size());
  std::string key = "\"nx.checksum\":\"" + placeholder + "\"";
  size_t at = s.find(key);
  if (at == std::string::npos) return b;
  at += key.size() - 17;
  nx::detail::Hash64 h;
  h.update(b.data(), b.size());
  char digits[17];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(h.digest()));
  std::memcpy(b.data() + at, digits, 16);
  return b;
}

TEST(Checkpoint, ChecksTheFormat) {
  auto bad = [](const Bytes& b, const std::string& needle, const char* file = __builtin_FILE()) {
    expect_op_error<nx::ValueError>([&] { nx::io::decode_checkpoint(b); }, "decode_checkpoint", needle, file);
  };
  const std::map<std::string, std::string> ok{{"nx.format", "nx-checkpoint-1"}, {"nx.step", "1"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    auto m = ok;
    for (auto& [k, v] : extra) m[k] = v;
    return m;
  };
  EXPECT_EQ(nx::io::decode_checkpoint(sealed({{"params.x", nx::zeros({2})}}, ok)).step, 1);
  bad(nx::io::encode_safetensors({{"x", nx::zeros({2})}}), "not an nx checkpoint: no \"nx.format\" metadata");
  bad(sealed({}, with({{"nx.format", "nx-checkpoint-2"}})), "unsupported checkpoint format \"nx-checkpoint-2\"");
  bad(nx::io::encode_safetensors({}, ok), "no \"nx.checksum\" metadata");
  bad(sealed({}, with({{"nx.checksum", "abc"}})), "malformed \"nx.checksum\" \"abc\"");
  bad(sealed({}, with({{"nx.checksum", "ABCDEF0123456789"}})), "malformed \"nx.checksum\"");
  bad(sealed({{"params.x", nx::zeros({2})}, {"x", nx::zeros({1})}}, ok), "unexpected tensor \"x\"");
  bad(sealed({}, with({{"other", "1"}})), "unexpected metadata key \"other\"");
  bad(sealed({}, with({{"nx.version", "1"}})), "unexpected metadata key \"nx.version\"");
  for (std::string step : {"", "1.5", "+1", " 1", "0x10", "99999999999999999999"})
    bad(sealed({}, with({{"nx.step", step}})), "\"nx.step\" \"" + step + "\" is not a 64-bit integer");
  auto no_step = ok;
  no_step.erase("nx.step");
  bad(sealed({}, no_step), "no \"nx.step\" metadata");
}

TEST(Checkpoint, RefusesChecksumDigitsWrittenAsEscapes) {
  // The same JSON string as 16 zeros, but its bytes cannot be blanked out in place.
  std::string header =
      "{\"__metadata__\":{\"nx.checksum\":\"\\u0030000000000000000\",\"nx.format\":\"nx-checkpoint-1\","
      "\"nx.step\":\"1\"}}";
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>(header.size() >> (8 * i));
  s += header;
  Bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  expect_op_error<nx::ValueError>([&] { nx::io::decode_checkpoint(b); }, "decode_checkpoint",
                                  "malformed \"nx.checksum\" \"0000000000000000\"");
}

TEST(Checkpoint, LoadErrorsNameTheFile) {
  std::string dir = temp_dir("errors");
  expect_op_error<nx::ValueError>([&] { nx::io::load_checkpoint(dir + "/none"); }, "load_checkpoint", "cannot read");
  nx::io::save_safetensors(dir + "/plain", {{"x", nx::zeros({1})}});
  expect_op_error<nx::ValueError>([&] { nx::io::load_checkpoint(dir + "/plain"); }, "load_checkpoint",
                                  dir + "/plain': not an nx checkpoint");
  fs::remove_all(dir);
}

TEST(Checkpoint, FailedSavesKeepThePreviousCheckpoint) {
  std::string dir = temp_dir("failed");
  std::string path = dir + "/ckpt";
  nx::io::save_checkpoint(path, sample(1));
  nx::io::Checkpoint broken = sample(2);
  broken.params["bad"] = nx::Tensor();
  expect_op_error<nx::ValueError>([&] { nx::io::save_checkpoint(path, broken); }, "save_checkpoint",
                                  "tensor \"params.bad\" is undefined");
  fs::create_directories(dir + "/sub");
  expect_op_error<nx::ValueError>([&] { nx::io::save_checkpoint(dir + "/sub", sample(3)); }, "save_checkpoint",
                                  "rename");
  expect_same_checkpoint(nx::io::load_checkpoint(path), sample(1));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 2) << "temporary files left";
  fs::remove_all(dir);
}

TEST(Checkpoint, ResavingKeepsTheFileModeAndSymlinks) {
  std::string dir = temp_dir("mode");
  std::string path = dir + "/ckpt";
  nx::io::save_checkpoint(path, sample(1));
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);  // 0600: not what a new file gets
  nx::io::save_checkpoint(path, sample(2));
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(nx::io::load_checkpoint(path).step, 2);

  // A link (relative, through a second link) keeps pointing at the file it named, which
  // gets the new contents and keeps its mode.
  fs::create_symlink("ckpt", dir + "/latest");
  fs::create_symlink(dir + "/latest", dir + "/current");
  nx::io::save_checkpoint(dir + "/current", sample(3));
  EXPECT_TRUE(fs::is_symlink(dir + "/current"));
  EXPECT_TRUE(fs::is_symlink(dir + "/latest"));
  EXPECT_EQ(fs::read_symlink(dir + "/latest"), "ckpt");
  EXPECT_EQ(nx::io::load_checkpoint(path).step, 3);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  // A dangling link: its target is created.
  fs::create_directories(dir + "/runs");
  fs::create_symlink("runs/next", dir + "/pending");
  nx::io::save_checkpoint(dir + "/pending", sample(4));
  EXPECT_TRUE(fs::is_symlink(dir + "/pending"));
  EXPECT_EQ(nx::io::load_checkpoint(dir + "/runs/next").step, 4);
  // No temporary files left anywhere.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 5);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir + "/runs"), fs::directory_iterator()), 1);
  // A link loop is an error naming the path, not a hang.
  fs::create_symlink("loop_b", dir + "/loop_a");
  fs::create_symlink("loop_a", dir + "/loop_b");
  expect_op_error<nx::ValueError>([&] { nx::io::save_checkpoint(dir + "/loop_a", sample(5)); }, "save_checkpoint",
                                  "too many levels of symlinks");
  fs::remove_all(dir);
}

// ---- nx-hash64 ----

TEST(Checkpoint, Hash64MatchesTheSpecification) {
  // From the Python implementation in tests/golden/gen_io_safetensors.py.
  const std::pair<int, uint64_t> known[] = {{0, 0x7a17794f83b07a75ull},  {1, 0xf7696e582cba5ee7ull},
                                            {31, 0x50e7ccdf8bd94f65ull}, {32, 0x9236894521e4e539ull},
                                            {33, 0x0badba9aafc559a3ull}, {100, 0x380d96cf293e9ac2ull}};
  for (auto [n, want] : known) {
    Bytes b(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) b[static_cast<size_t>(i)] = std::byte{static_cast<unsigned char>(i)};
    nx::detail::Hash64 h;
    h.update(b.data(), b.size());
    EXPECT_EQ(h.digest(), want) << n << " bytes";
  }
}

TEST(Checkpoint, Hash64StreamsInAnyPieces) {
  Bytes b(10007);
  std::mt19937 rng(5);
  for (auto& x : b) x = std::byte{static_cast<unsigned char>(rng())};
  nx::detail::Hash64 whole;
  whole.update(b.data(), b.size());
  for (int trial = 0; trial < 20; ++trial) {
    nx::detail::Hash64 h;
    for (size_t at = 0; at < b.size();) {
      size_t n = std::min<size_t>(rng() % 70, b.size() - at);
      h.update(b.data() + at, n);
      at += n;
    }
    EXPECT_EQ(h.digest(), whole.digest());
  }
}

// ---- files for gen_io_safetensors.py --check ----

TEST(Checkpoint, WritesAFileForTheReferenceReader) {
  const char* env = std::getenv("NX_IO_CHECK_DIR");
  std::string dir = env ? env : temp_dir("check");
  fs::create_directories(dir);
  nx::io::Checkpoint c;
  c.step = 42;
  c.params["w"] = nx::as_type(nx::add(nx::reshape(nx::iota({6}), {2, 3}), 42), nx::f32);
  c.optimizer_state["m"] = nx::full({3}, 42, nx::i64);
  c.metadata["run"] = "golden";
  nx::io::save_checkpoint(dir + "/nx_checkpoint.safetensors", c);
  expect_same_checkpoint(nx::io::load_checkpoint(dir + "/nx_checkpoint.safetensors"), c);
  if (!env) fs::remove_all(dir);
}

// ---- killed mid-save ----

// A checkpoint of ~20 MB whose every element follows from its step.
nx::io::Checkpoint big(int64_t k) {
  const size_t n = size_t{1} << 20;
  std::vector<float> w(2 * n), m(n);
  std::vector<int64_t> b(n);
  for (size_t i = 0; i < 2 * n; ++i) w[i] = static_cast<float>((static_cast<uint64_t>(k) * 7919 + i) % 65536);
  for (size_t i = 0; i < n; ++i) b[i] = k * 1000003 + static_cast<int64_t>(i);
  for (size_t i = 0; i < n; ++i) m[i] = -static_cast<float>(k + static_cast<int64_t>(i % 100));
  nx::io::Checkpoint c;
  c.step = k;
  c.params["w"] = nx::from_vector(w, {2 * static_cast<int64_t>(n)});
  c.params["b"] = nx::from_vector(b, {static_cast<int64_t>(n)});
  c.optimizer_state["m"] = nx::from_vector(m, {static_cast<int64_t>(n)});
  c.metadata["step_again"] = std::to_string(k);
  return c;
}

// The index of the first element of `v` that differs from want(i), or -1.
template <class T, class F>
int64_t first_mismatch(const std::vector<T>& v, F want) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != want(i)) return static_cast<int64_t>(i);
  return -1;
}

void expect_consistent(const nx::io::Checkpoint& c) {
  int64_t k = c.step;
  ASSERT_EQ(c.metadata.at("step_again"), std::to_string(k));
  auto w = c.params.at("w").to_vector<float>();
  auto b = c.params.at("b").to_vector<int64_t>();
  auto m = c.optimizer_state.at("m").to_vector<float>();
  ASSERT_EQ(w.size(), size_t{2} << 20);
  ASSERT_EQ(b.size(), size_t{1} << 20);
  ASSERT_EQ(m.size(), size_t{1} << 20);
  EXPECT_EQ(first_mismatch(w, [&](size_t i) { return static_cast<float>((static_cast<uint64_t>(k) * 7919 + i) % 65536); }), -1)
      << "params.w at step " << k;
  EXPECT_EQ(first_mismatch(b, [&](size_t i) { return k * 1000003 + static_cast<int64_t>(i); }), -1)
      << "params.b at step " << k;
  EXPECT_EQ(first_mismatch(m, [&](size_t i) { return -static_cast<float>(k + static_cast<int64_t>(i % 100)); }), -1)
      << "optimizer_state.m at step " << k;
}

TEST(Checkpoint, SurvivesBeingKilledMidSave) {
  std::string dir = temp_dir("kill");
  std::string path = dir + "/ckpt.safetensors";
  nx::io::save_checkpoint(path, big(0));
  std::mt19937 rng(2024);
  std::set<int64_t> steps;
  int leftovers = 0;
  auto start = std::chrono::steady_clock::now();
  for (int iter = 0; iter < 12 && std::chrono::steady_clock::now() - start < std::chrono::seconds(7); ++iter) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        for (int64_t k = 1 + iter * 100000;; ++k) nx::io::save_checkpoint(path, big(k));
      } catch (...) {
        ::_exit(3);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 300));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the saving child failed by itself";
    nx::io::Checkpoint c = nx::io::load_checkpoint(path);
    expect_consistent(c);
    steps.insert(c.step);
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind("ckpt.safetensors.tmp-", 0) == 0) {
        ++leftovers;
        fs::remove(e.path());  // a save the kill interrupted
      }
  }
  std::printf("steps seen after kills: %zu distinct; interrupted saves tidied: %d\n", steps.size(), leftovers);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

// ---- state dicts ----

using Layer = std::map<std::string, nx::Tensor>;

TEST(StateDict, NamesLeavesLikePyTorch) {
  std::map<std::string, std::vector<Layer>> model{
      {"encoder", {Layer{{"weight", nx::zeros({2, 3})}, {"bias", nx::zeros({3})}}, Layer{{"weight", nx::ones({3})}}}},
      {"head", {Layer{{"w", nx::zeros({1}, nx::f16)}}}}};
  nx::io::TensorDict sd = nx::io::to_state_dict(model);
  std::vector<std::string> names;
  for (const auto& kv : sd) names.push_back(kv.first);
  EXPECT_EQ(names, (std::vector<std::string>{"encoder.0.bias", "encoder.0.weight", "encoder.1.weight", "head.0.w"}));

  std::tuple<nx::Tensor, std::pair<nx::Tensor, nx::Tensor>, std::array<Layer, 2>> t{
      nx::zeros({1}), {nx::zeros({2}), nx::zeros({3})}, {Layer{{"a", nx::zeros({4})}}, Layer{{"b", nx::zeros({5})}}}};
  names.clear();
  for (const auto& kv : nx::io::to_state_dict(t)) names.push_back(kv.first);
  EXPECT_EQ(names, (std::vector<std::string>{"0", "1.0", "1.1", "2.0.a", "2.1.b"}));

  EXPECT_EQ(nx::io::to_state_dict(nx::zeros({2})).count(""), 1u);
  std::map<std::string, AdamState> opt{{"w", AdamState{nx::zeros({2}), nx::ones({2})}}};
  names.clear();
  for (const auto& kv : nx::io::to_state_dict(opt)) names.push_back(kv.first);
  EXPECT_EQ(names, (std::vector<std::string>{"w.0", "w.1"}));
}

TEST(StateDict, RoundTripsThroughSafetensors) {
  std::map<std::string, std::vector<Layer>> model{
      {"encoder", {Layer{{"weight", nx::as_type(nx::iota({2, 3}), nx::f32)}, {"bias", nx::full({3}, 0.5)}}}},
      {"head", {Layer{{"w", nx::as_type(nx::iota({4}), nx::bf16)}}}}};
  auto like = model;
  like["encoder"][0]["weight"] = nx::zeros({2, 3});
  nx::io::TensorDict sd = nx::io::decode_safetensors(nx::io::encode_safetensors(nx::io::to_state_dict(model))).tensors;
  auto back = nx::io::from_state_dict(like, sd);
  expect_same(back["encoder"][0]["weight"], model["encoder"][0]["weight"], "weight");
  expect_same(back["encoder"][0]["bias"], model["encoder"][0]["bias"], "bias");
  expect_same(back["head"][0]["w"], model["head"][0]["w"], "w");

  std::tuple<nx::Tensor, std::pair<nx::Tensor, nx::Tensor>, std::array<nx::Tensor, 2>> t{
      nx::full({1}, 1.0), {nx::full({2}, 2.0), nx::full({3}, 3.0)}, {nx::full({4}, 4.0), nx::full({5}, 5.0)}};
  auto t2 = nx::io::from_state_dict(t, nx::io::to_state_dict(t));
  expect_same(std::get<2>(t2)[1], nx::full({5}, 5.0), "2.1");
  expect_same(std::get<1>(t2).first, nx::full({2}, 2.0), "1.0");

  std::map<std::string, AdamState> opt{{"w", AdamState{nx::full({2}, 1.0), nx::full({2}, 2.0)}}};
  auto opt2 = nx::io::from_state_dict(opt, nx::io::to_state_dict(opt));
  expect_same(opt2["w"].v, nx::full({2}, 2.0), "w.v");
}

TEST(StateDict, ExplainsMismatches) {
  Layer like{{"w", nx::zeros({2, 3})}, {"b", nx::zeros({3})}};
  const char* op = "from_state_dict";
  expect_op_error<nx::ValueError>([&] { nx::io::from_state_dict(like, {{"w", nx::zeros({2, 3})}}); }, op,
                                  "missing key 'b' (the tree has f32(3) there)");
  expect_op_error<nx::ValueError>(
      [&] { nx::io::from_state_dict(like, {{"w", nx::zeros({2, 3}, nx::f64)}, {"b", nx::zeros({3})}}); }, op,
      "key 'w' is f64(2, 3) in the state dict but f32(2, 3) in the tree");
  expect_op_error<nx::ValueError>(
      [&] { nx::io::from_state_dict(like, {{"w", nx::zeros({3, 2})}, {"b", nx::zeros({3})}}); }, op,
      "key 'w' is f32(3, 2) in the state dict but f32(2, 3) in the tree");
  expect_op_error<nx::ValueError>(
      [&] {
        nx::io::from_state_dict(like, {{"w", nx::zeros({2, 3})}, {"b", nx::zeros({3})}, {"extra", nx::zeros({1})}});
      },
      op, "unexpected key in the state dict: 'extra'");
  nx::io::TensorDict many{{"w", nx::zeros({2, 3})}, {"b", nx::zeros({3})}};
  for (int i = 0; i < 12; ++i) many["x" + std::to_string(i)] = nx::zeros({1});
  expect_op_error<nx::ValueError>([&] { nx::io::from_state_dict(like, many); }, op,
                                  "unexpected keys in the state dict: 'x0', 'x1', 'x10'");
  expect_op_error<nx::ValueError>([&] { nx::io::from_state_dict(like, many); }, op, "and 2 more");

  std::map<std::string, Layer> clash{{"a", Layer{{"b.c", nx::zeros({1})}}}, {"a.b", Layer{{"c", nx::zeros({1})}}}};
  expect_op_error<nx::ValueError>([&] { nx::io::to_state_dict(clash); }, "to_state_dict",
                                  "two leaves are both named 'a.b.c'");
}

}  // namespace
