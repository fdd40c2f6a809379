#include "nx/detail/fusion/kernel_spec.hpp"

#include <algorithm>

#include "nx/detail/fusion/index_map.hpp"
#include "nx/error.hpp"

namespace nx::fusion {

std::string KernelSpec::key() const {
  std::string k;
  k += "erca"[static_cast<int>(mode)];
  k += two_d ? "2d" : "1d";
  k += scratch ? "s" : "";
  k += stream ? "n|" : "|";
  for (const Input& in : inputs) k += std::string(name(in.dtype)) + "fsrc"[static_cast<int>(in.access)] + ',';
  k += '|';
  for (const Instr& ins : code) {
    k += std::string(op_name(ins.op)) + ':' + std::string(name(ins.dtype)) + ':' + std::to_string(ins.input) + (ins.per_row ? "r" : "");
    if (ins.map >= 0) k += '@' + map_key(maps[static_cast<size_t>(ins.map)]);
    for (int o : ins.operands) k += ',' + std::to_string(o);
    k += ';';
  }
  k += '|';
  for (int o : outputs) k += std::to_string(o) + ',';
  return k;
}

Passes passes_of(const KernelSpec& spec, const char* backend) {
  size_t n = spec.code.size();
  Passes p;
  p.space.resize(n);
  p.pass.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const KernelSpec::Instr& ins = spec.code[i];
    if (ins.op == Op::Parameter && ins.map < 0) {
      KernelSpec::Access a = spec.inputs[static_cast<size_t>(ins.input)].access;
      p.space[i] = a == KernelSpec::Access::scalar ? Space::scalar : a == KernelSpec::Access::row ? Space::row : Space::full;
      continue;
    }
    int at = 0;
    for (int o : ins.operands) at = std::max(at, p.pass[static_cast<size_t>(o)]);
    if (is_reduction(ins.op)) {
      if (spec.mode == Mode::elementwise || p.space[static_cast<size_t>(ins.operands[0])] != Space::full)
        throw Error(backend, "a reduction needs a reducing kernel over a full operand");
      ++at;
    }
    p.space[i] = is_reduction(ins.op) || ins.per_row ? Space::row : Space::full;
    p.pass[i] = at;
  }
  for (size_t i = 0; i < n; ++i)
    if (p.space[i] == Space::full) p.count = std::max(p.count, p.pass[i] + 1);
  if (spec.mode != Mode::rows)
    for (const KernelSpec::Instr& ins : spec.code)
      for (int o : ins.operands)
        if (is_reduction(spec.code[static_cast<size_t>(o)].op)) throw Error(backend, "only a rows kernel may read its own reductions");
  return p;
}

bool view_supports(Op op, DType t) {
  return t == DType::f32 || t == DType::f64 || (t == DType::bool_ && op != Op::Iota);
}

bool kernel_supports(Op op, DType result, std::span<const DType> operands) {
  auto is_float = [](DType t) { return t == DType::f32 || t == DType::f64; };
  auto all = [&](auto pred) { return std::all_of(operands.begin(), operands.end(), pred); };
  auto same_float = [&] { return is_float(result) && all([&](DType t) { return t == result; }); };
  switch (op) {
    case Op::Add: case Op::Subtract: case Op::Multiply: case Op::Divide: case Op::Negate:
    case Op::Abs: case Op::Sqrt: case Op::Max: case Op::Min: case Op::Exp: case Op::Log: case Op::Tanh:
    case Op::Sigmoid: case Op::Sum: case Op::ReduceMax: case Op::ReduceMin: case Op::Erf: case Op::Floor:
    case Op::Ceil: case Op::Round: case Op::Sign: case Op::Rsqrt: case Op::Sin: case Op::Cos: case Op::Log1p:
    case Op::Expm1: case Op::Pow: return same_float();
    case Op::LogicalNot: case Op::LogicalAnd: case Op::LogicalOr: case Op::LogicalXor:
      return result == DType::bool_ && all([](DType t) { return t == DType::bool_; });
    case Op::Equal: case Op::NotEqual: case Op::Less: case Op::LessEqual: case Op::Greater:
    case Op::GreaterEqual:
      return result == DType::bool_ && is_float(operands[0]) && operands[1] == operands[0];
    case Op::IsNan: case Op::IsInfinity: return result == DType::bool_ && is_float(operands[0]);
    case Op::Broadcast: return (is_float(result) || result == DType::bool_) && operands[0] == result;
    case Op::Select:
      return is_float(result) && operands[0] == DType::bool_ && operands[1] == result && operands[2] == result;
    case Op::AsType:
      return (is_float(result) || result == DType::bool_) && (is_float(operands[0]) || operands[0] == DType::bool_);
    default: return false;
  }
}

}  // namespace nx::fusion
