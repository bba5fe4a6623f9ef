// Owning aligned tensors and named tensor sets.
#include "attnbench/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace attnbench {

std::size_t size_of(DataType t) {
  switch (t) {
    case DataType::f32: return 4;
    case DataType::f64: return 8;
    case DataType::i32: return 4;
  }
  return 0;
}

const char* to_string(DataType t) {
  switch (t) {
    case DataType::f32: return "float32";
    case DataType::f64: return "float64";
    case DataType::i32: return "int32";
  }
  return "?";
}

std::int64_t element_count(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t e : s)
    if (__builtin_mul_overflow(n, e, &n))
      throw std::length_error("tensor shape " + shape_str(s) + " has more elements than 64 bits can count");
  return n;
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

void Tensor::Free::operator()(void* p) const { std::free(p); }

Tensor::Tensor(DataType type, Shape shape) : type_(type), shape_(std::move(shape)), size_(element_count(shape_)) {
  for (std::int64_t e : shape_)
    if (e < 0) throw std::invalid_argument("tensor shape " + shape_str(shape_) + " has a negative extent");
  // 64-byte alignment: one cache line, and what aligned AVX-512 loads would need.
  const std::size_t rounded = (std::max<std::size_t>(bytes(), 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  data_.reset(p);
}

void Tensor::check_type(DataType wanted) const {
  if (wanted != type_)
    throw std::logic_error(std::string("tensor holds ") + to_string(type_) + ", accessed as " + to_string(wanted));
}

Tensor& TensorSet::add(const std::string& name, Tensor t) { return map_[name] = std::move(t); }

const Tensor& TensorSet::at(const std::string& name) const {
  auto it = map_.find(name);
  if (it == map_.end()) throw std::out_of_range("no tensor named '" + name + "'");
  return it->second;
}

Tensor& TensorSet::at(const std::string& name) {
  return const_cast<Tensor&>(static_cast<const TensorSet&>(*this).at(name));
}

}  // namespace attnbench
