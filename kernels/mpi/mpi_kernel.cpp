// Shared pieces of the mpi kernels (mpi_kernel.hpp).
#include "mpi_kernel.hpp"

#include <cblas.h>

#include <cstring>
#include <stdexcept>

#include "attnbench/workload.hpp"
#include "comm.hpp"

namespace attnbench::kernels::mpi {

Support MpiKernel::supports_run(const Problem& p, const RunContext& ctx) const {
  Support s = supports(p);  // not const: returned, so moved
  if (!s.ok) return s;
  const std::string why = partition_refusal(strategy_, p, comm_size(ctx.comm));
  return why.empty() ? Support::yes() : Support::no(why);
}

int MpiKernel::checked_ranks(const Problem& p, const RunContext& ctx) const {
  const int ranks = comm_size(ctx.comm);
  const std::string why = partition_refusal(strategy_, p, ranks);
  if (!why.empty()) throw std::invalid_argument(id() + " cannot run " + p.str() + ": " + why);
  return ranks;
}

int comm_rank(MPI_Comm comm) {
  if (comm_size(comm) == 1) return 0;
  int rank = 0;
  check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  return rank;
}

void copy_rows(const float* src, std::int64_t src_stride, float* dst, std::int64_t dst_stride, std::int64_t rows,
               std::int64_t width) {
  for (std::int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, std::size_t(width) * sizeof(float));
}

Problem head_subproblem(const Problem& p, Range heads, Range kv) {
  Problem local = p;
  local.heads = heads.size();
  local.kv_heads = kv.size();
  local.projections = false;
  local.validate();
  return local;
}

TensorSet head_score_weights(const Problem& p, const TensorSet& t, Range heads) {
  TensorSet w;
  // Each of these is [H][...]: a head range is one contiguous slice.
  const char* names[] = {"w_score", "w_score_q", "w_score_k", "v_score"};
  for (const char* name : names) {
    if (!t.has(name)) continue;
    const Tensor& full = t.at(name);
    Shape shape = full.shape();
    const std::int64_t per_head = full.size() / p.heads;
    shape[0] = heads.size();
    Tensor slice(DataType::f32, shape);
    std::memcpy(slice.raw(), full.as<float>().data() + heads.begin * per_head, slice.bytes());
    w.add(name, std::move(slice));
  }
  return w;
}

void linear(const float* x, std::int64_t ldx, std::int64_t m, std::int64_t k, const float* w, std::int64_t ldw,
            const float* bias, float* y, std::int64_t ldy, std::int64_t n, int threads) {
  if (m == 0 || n == 0) return;
  const int previous = openblas_get_num_threads();
  if (previous != threads) openblas_set_num_threads(threads);
  if (bias)
    for (std::int64_t r = 0; r < m; ++r) std::memcpy(y + r * ldy, bias, std::size_t(n) * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k), 1.0f, x, int(ldx), w, int(ldw),
              bias ? 1.0f : 0.0f, y, int(ldy));
  if (previous != threads) openblas_set_num_threads(previous);
}

}  // namespace attnbench::kernels::mpi

namespace attnbench::kernels::mpi {

void collect_rows(Comm& comm, Tensor& out, std::int64_t batch, std::int64_t seq, std::int64_t width,
                  const std::vector<std::vector<Range>>& rows_of_rank) {
  if (comm.size() == 1) return;
  float* o = out.as<float>().data();
  auto rows_of = [&](int r) {
    std::int64_t n = 0;
    for (const Range& range : rows_of_rank[std::size_t(r)]) n += range.size();
    return n;
  };
  // Packed as [B][own rows in order][width].
  auto for_each_row = [&](int r, auto&& fn) {
    std::int64_t at = 0;
    for (std::int64_t b = 0; b < batch; ++b)
      for (const Range& range : rows_of_rank[std::size_t(r)])
        for (std::int64_t i = range.begin; i < range.end; ++i) fn(o + (b * seq + i) * width, at++ * width);
  };
  std::vector<std::int64_t> counts(std::size_t(comm.size()));
  std::int64_t total = 0;
  for (int r = 0; r < comm.size(); ++r) total += counts[std::size_t(r)] = batch * rows_of(r) * width;
  std::vector<float> mine(static_cast<std::size_t>(counts[std::size_t(comm.rank())]));
  for_each_row(comm.rank(), [&](float* row, std::int64_t at) { std::memcpy(&mine[std::size_t(at)], row, std::size_t(width) * 4); });
  std::vector<float> all(comm.rank() == 0 ? std::size_t(total) : 0);
  comm.gather_to_root(mine.data(), counts, all.data(), nullptr);  // not part of the algorithm: unrecorded
  if (comm.rank() != 0) return;
  std::int64_t offset = 0;
  for (int r = 0; r < comm.size(); ++r) {
    for_each_row(r, [&](float* row, std::int64_t at) { std::memcpy(row, &all[std::size_t(offset + at)], std::size_t(width) * 4); });
    offset += counts[std::size_t(r)];
  }
}

}  // namespace attnbench::kernels::mpi
