// Fused CPU kernel of the channel-shared 3x3 KAN conv for polynomial bases.
//
// Math (see rkan_mmdet/models/layers/kan_conv.py and kan_bases.py): for every
// channel plane u (H, W) with t = tanh(u), the F = 1 + D feature maps are
//   Phi_0 = u,  Phi_j = t^j  (j = 1..D),
// each zero outside the plane (padding = dilation d), and
//   y[i, j] = bias + sum_{f, ki, kj} C[f, 3 ki + kj] Phi_f[s i + d ki - d, s j + d kj - d].
// Backward, with G_f the transposed conv of dy by C[f, :]:
//   dC[f, k] = sum_{i, j} dy[i, j] Phi_f[...],   dbias = sum dy,
//   du = G_0 + (1 - t^2) sum_{j=1..D} j t^(j-1) G_j      (Horner in t).
// One plane at a time, in a thread's own zero-bordered buffers, so the
// feature maps never leave cache; planes run in parallel (at::parallel_for).
// tanh comes from the caller (torch's vectorised tanh), saved by forward.
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <mutex>
#include <vector>

namespace {

struct Geometry {
  int64_t h, w, ho, wo, hp, wp, s, d, nf;
};

Geometry geometry(const torch::Tensor& x, const torch::Tensor& coef, int64_t stride,
                  int64_t dilation) {
  const int64_t h = x.size(1), w = x.size(2);
  return {h, w, (h - 1) / stride + 1, (w - 1) / stride + 1,
          h + 2 * dilation, w + 2 * dilation, stride, dilation, coef.size(0)};
}

// Writes Phi_0..Phi_D of one plane into the interior of the zero-bordered
// (nf, hp, wp) buffer `feat`.
template <typename T>
inline __attribute__((always_inline)) void fill_features(
    const Geometry& g, const T* u, const T* t, T* feat) {
  const int64_t plane = g.hp * g.wp;
  for (int64_t r = 0; r < g.h; ++r) {
    const int64_t off = (r + g.d) * g.wp + g.d;
    const T* ur = u + r * g.w;
    const T* tr = t + r * g.w;
    for (int64_t c = 0; c < g.w; ++c) feat[off + c] = ur[c];
    for (int64_t c = 0; c < g.w; ++c) feat[plane + off + c] = tr[c];
    for (int64_t f = 2; f < g.nf; ++f) {
      T* dst = feat + f * plane + off;
      const T* prev = dst - plane;
      for (int64_t c = 0; c < g.w; ++c) dst[c] = prev[c] * tr[c];
    }
  }
}

template <typename T>
inline __attribute__((always_inline)) void forward_plane(
    const Geometry& g, const T* coef, T bias, const T* feat, T* y) {
  for (int64_t i = 0; i < g.ho * g.wo; ++i) y[i] = bias;
  const int64_t plane = g.hp * g.wp;
  for (int64_t f = 0; f < g.nf; ++f) {
    for (int64_t ki = 0; ki < 3; ++ki) {
      for (int64_t kj = 0; kj < 3; ++kj) {
        const T c = coef[f * 9 + ki * 3 + kj];
        const T* src = feat + f * plane + ki * g.d * g.wp + kj * g.d;
        for (int64_t i = 0; i < g.ho; ++i) {
          const T* sr = src + g.s * i * g.wp;
          T* yr = y + i * g.wo;
          if (g.s == 1) {
            for (int64_t j = 0; j < g.wo; ++j) yr[j] += c * sr[j];
          } else {
            for (int64_t j = 0; j < g.wo; ++j) yr[j] += c * sr[g.s * j];
          }
        }
      }
    }
  }
}

// Adds this plane's dC into `gcoef` (nf * 9, double) and, when `gx` is not
// null, writes du. `grad` is a zero-bordered (nf, hp, wp) scratch buffer.
template <typename T>
inline __attribute__((always_inline)) void backward_plane(
    const Geometry& g, const T* coef, const T* feat, const T* t, const T* dy,
    double* gcoef, T* grad, T* gx) {
  const int64_t plane = g.hp * g.wp;
  if (gx != nullptr) std::fill(grad, grad + g.nf * plane, T(0));
  for (int64_t f = 0; f < g.nf; ++f) {
    for (int64_t ki = 0; ki < 3; ++ki) {
      for (int64_t kj = 0; kj < 3; ++kj) {
        const int64_t k = f * 9 + ki * 3 + kj;
        const int64_t off = f * plane + ki * g.d * g.wp + kj * g.d;
        const T c = coef[k];
        double acc = 0;
        for (int64_t i = 0; i < g.ho; ++i) {
          const T* sr = feat + off + g.s * i * g.wp;
          const T* dr = dy + i * g.wo;
          T row = 0;
          if (g.s == 1) {
            for (int64_t j = 0; j < g.wo; ++j) row += dr[j] * sr[j];
          } else {
            for (int64_t j = 0; j < g.wo; ++j) row += dr[j] * sr[g.s * j];
          }
          acc += row;
          if (gx == nullptr) continue;
          T* gr = grad + off + g.s * i * g.wp;
          if (g.s == 1) {
            for (int64_t j = 0; j < g.wo; ++j) gr[j] += c * dr[j];
          } else {
            for (int64_t j = 0; j < g.wo; ++j) gr[g.s * j] += c * dr[j];
          }
        }
        gcoef[k] += acc;
      }
    }
  }
  if (gx == nullptr) return;
  const int64_t degree = g.nf - 1;
  for (int64_t r = 0; r < g.h; ++r) {
    const int64_t off = (r + g.d) * g.wp + g.d;
    const T* tr = t + r * g.w;
    T* out = gx + r * g.w;
    for (int64_t c = 0; c < g.w; ++c) out[c] = T(degree) * grad[degree * plane + off + c];
    for (int64_t f = degree - 1; f >= 1; --f) {
      const T* gf = grad + f * plane + off;
      for (int64_t c = 0; c < g.w; ++c) out[c] = out[c] * tr[c] + T(f) * gf[c];
    }
    for (int64_t c = 0; c < g.w; ++c) out[c] = grad[off + c] + out[c] * (T(1) - tr[c] * tr[c]);
  }
}

// Non-template entry points, each compiled for AVX2+FMA and for baseline x86-64;
// the loader picks the clone the CPU supports.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RKAN_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define RKAN_CLONES
#endif

#define RKAN_DEFINE_PLANES(T)                                                          \
  RKAN_CLONES void forward_planes(const Geometry& g, const T* coef, T bias, const T* u, \
                                  const T* t, T* y, int64_t begin, int64_t end) {       \
    std::vector<T> feat(g.nf * g.hp * g.wp, T(0));                                      \
    for (int64_t p = begin; p < end; ++p) {                                             \
      fill_features(g, u + p * g.h * g.w, t + p * g.h * g.w, feat.data());              \
      forward_plane(g, coef, bias, feat.data(), y + p * g.ho * g.wo);                   \
    }                                                                                   \
  }                                                                                     \
  RKAN_CLONES void backward_planes(const Geometry& g, const T* coef, const T* u,        \
                                   const T* t, const T* dy, double* gcoef, T* gx,       \
                                   int64_t begin, int64_t end) {                        \
    std::vector<T> feat(g.nf * g.hp * g.wp, T(0));                                      \
    std::vector<T> grad(gx != nullptr ? g.nf * g.hp * g.wp : 0, T(0));                  \
    for (int64_t p = begin; p < end; ++p) {                                             \
      const int64_t in = p * g.h * g.w;                                                 \
      fill_features(g, u + in, t + in, feat.data());                                    \
      backward_plane(g, coef, feat.data(), t + in, dy + p * g.ho * g.wo, gcoef,         \
                     grad.data(), gx != nullptr ? gx + in : nullptr);                   \
    }                                                                                   \
  }

RKAN_DEFINE_PLANES(float)
RKAN_DEFINE_PLANES(double)

void check_inputs(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& coef) {
  TORCH_CHECK(x.device().is_cpu(), "poly_kan_conv: x must be a CPU tensor, got ", x.device());
  TORCH_CHECK(x.dim() == 3, "poly_kan_conv: x must be (planes, H, W), got ", x.sizes());
  TORCH_CHECK(x.is_contiguous() && t.is_contiguous() && coef.is_contiguous(),
              "poly_kan_conv: inputs must be contiguous");
  TORCH_CHECK(t.sizes() == x.sizes(), "poly_kan_conv: tanh(x) has shape ", t.sizes(),
              ", x has ", x.sizes());
  TORCH_CHECK(coef.dim() == 2 && coef.size(1) == 9 && coef.size(0) >= 2,
              "poly_kan_conv: coef must be (1 + D, 9) with D >= 1, got ", coef.sizes());
  TORCH_CHECK(x.scalar_type() == t.scalar_type() && x.scalar_type() == coef.scalar_type(),
              "poly_kan_conv: x, tanh(x) and coef must share a dtype");
  TORCH_CHECK(x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble,
              "poly_kan_conv: dtype must be float32 or float64, got ", x.scalar_type());
}

int64_t grain(const Geometry& g) {
  return std::max<int64_t>(1, 4096 / (g.h * g.w));
}

}  // namespace

// x, t: (planes, H, W); coef: (1 + D, 9) -> y: (planes, H', W').
torch::Tensor poly_kan_conv_forward(const torch::Tensor& x, const torch::Tensor& t,
                                    const torch::Tensor& coef, double bias, int64_t stride,
                                    int64_t dilation) {
  check_inputs(x, t, coef);
  TORCH_CHECK(stride >= 1 && dilation >= 1, "poly_kan_conv: stride and dilation must be >= 1");
  const Geometry g = geometry(x, coef, stride, dilation);
  auto y = torch::empty({x.size(0), g.ho, g.wo}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "poly_kan_conv_forward", [&] {
    const scalar_t* u = x.data_ptr<scalar_t>();
    const scalar_t* tp = t.data_ptr<scalar_t>();
    const scalar_t* c = coef.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, x.size(0), grain(g), [&](int64_t begin, int64_t end) {
      forward_planes(g, c, static_cast<scalar_t>(bias), u, tp, yp, begin, end);
    });
  });
  return y;
}

// -> (grad_x or an undefined tensor, grad_coef (1 + D, 9), grad_bias ()).
std::vector<torch::Tensor> poly_kan_conv_backward(const torch::Tensor& x, const torch::Tensor& t,
                                                  const torch::Tensor& coef,
                                                  const torch::Tensor& grad_y, int64_t stride,
                                                  int64_t dilation, bool need_x) {
  check_inputs(x, t, coef);
  const Geometry g = geometry(x, coef, stride, dilation);
  TORCH_CHECK(grad_y.is_contiguous() && grad_y.scalar_type() == x.scalar_type() &&
                  grad_y.sizes() == torch::IntArrayRef({x.size(0), g.ho, g.wo}),
              "poly_kan_conv: grad_y must be contiguous (planes, H', W') of x's dtype, got ",
              grad_y.sizes());
  torch::Tensor gx = need_x ? torch::empty_like(x) : torch::Tensor();
  std::vector<double> gcoef(g.nf * 9, 0.0);
  std::mutex lock;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "poly_kan_conv_backward", [&] {
    const scalar_t* u = x.data_ptr<scalar_t>();
    const scalar_t* tp = t.data_ptr<scalar_t>();
    const scalar_t* c = coef.data_ptr<scalar_t>();
    const scalar_t* dy = grad_y.data_ptr<scalar_t>();
    scalar_t* gxp = need_x ? gx.data_ptr<scalar_t>() : nullptr;
    at::parallel_for(0, x.size(0), grain(g), [&](int64_t begin, int64_t end) {
      std::vector<double> local(g.nf * 9, 0.0);
      backward_planes(g, c, u, tp, dy, local.data(), gxp, begin, end);
      std::lock_guard<std::mutex> guard(lock);
      for (size_t k = 0; k < local.size(); ++k) gcoef[k] += local[k];
    });
  });
  auto grad_coef = torch::tensor(gcoef, torch::kDouble).view({g.nf, 9}).to(x.scalar_type());
  return {gx, grad_coef, grad_y.sum()};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "Fused CPU kernels of RKAN's channel-shared polynomial KAN conv";
  m.def("forward", &poly_kan_conv_forward, "y = KANConv(x); see poly_kan_conv.cpp");
  m.def("backward", &poly_kan_conv_backward, "(grad_x, grad_coef, grad_bias)");
}
