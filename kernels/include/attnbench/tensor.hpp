#pragma once
/// \file tensor.hpp
/// Owning tensors (64-byte aligned, typed by DataType) and a named set of them.
/// A kernel's inputs, weights and output travel as a TensorSet keyed by the names in workload.hpp.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace attnbench {

enum class DataType { f32, f64, i32 };
std::size_t size_of(DataType t);
const char* to_string(DataType t);

template <class T> constexpr DataType data_type_of();
template <> constexpr DataType data_type_of<float>() { return DataType::f32; }
template <> constexpr DataType data_type_of<double>() { return DataType::f64; }
template <> constexpr DataType data_type_of<std::int32_t>() { return DataType::i32; }

using Shape = std::vector<std::int64_t>;
/// Product of the extents; throws std::length_error if it overflows 64 bits.
std::int64_t element_count(const Shape& s);
std::string shape_str(const Shape& s);  ///< "[2, 16, 64]"

/// A dense row-major tensor that owns 64-byte-aligned storage.
class Tensor {
 public:
  Tensor() = default;  ///< empty: no elements, shape [0]
  Tensor(DataType type, Shape shape);  ///< zero-initialised

  DataType type() const { return type_; }
  const Shape& shape() const { return shape_; }
  std::int64_t size() const { return size_; }
  std::size_t bytes() const { return static_cast<std::size_t>(size_) * size_of(type_); }
  bool empty() const { return size_ == 0; }

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }

  /// Typed access; throws std::logic_error if T does not match type().
  template <class T> std::span<T> as() { check<T>(); return {static_cast<T*>(raw()), std::size_t(size_)}; }
  template <class T> std::span<const T> as() const {
    check<T>();
    return {static_cast<const T*>(raw()), std::size_t(size_)};
  }

 private:
  template <class T> void check() const { check_type(data_type_of<T>()); }
  void check_type(DataType wanted) const;

  struct Free { void operator()(void* p) const; };
  DataType type_ = DataType::f32;
  Shape shape_{0};
  std::int64_t size_ = 0;
  std::unique_ptr<void, Free> data_;
};

/// Named tensors, e.g. {"q", "k", "v", "lengths", "w_q", ...}.
class TensorSet {
 public:
  Tensor& add(const std::string& name, Tensor t);
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  /// Throw std::out_of_range naming the missing tensor.
  const Tensor& at(const std::string& name) const;
  Tensor& at(const std::string& name);
  const std::map<std::string, Tensor>& all() const { return map_; }

 private:
  std::map<std::string, Tensor> map_;
};

/// A 4-D row-major view `[batch, seq, heads, dim]` over float data: names the extents so kernels
/// index `q(b, i, h, c)` instead of writing the offset arithmetic by hand.
template <class T>
struct View4 {
  T* data;
  std::int64_t batch, seq, heads, dim;
  T& operator()(std::int64_t b, std::int64_t s, std::int64_t h, std::int64_t c) const {
    return data[((b * seq + s) * heads + h) * dim + c];
  }
  /// Pointer to the `dim`-long row of (b, s, h).
  T* row(std::int64_t b, std::int64_t s, std::int64_t h) const { return &(*this)(b, s, h, 0); }
  /// Distance between consecutive sequence positions of the same head.
  std::int64_t seq_stride() const { return heads * dim; }
};

}  // namespace attnbench
