// Multi-threaded CPU RoIAlign (average pooling), bit-identical to mmcv 2.1's.
//
// Math (mmcv.ops.RoIAlign, pool_mode='avg'): RoI n = (b, x1, y1, x2, y2) is
// scaled by spatial_scale (minus 0.5 if aligned) and cut into PH x PW bins;
// bin (ph, pw) averages gh x gw bilinear samples of input[b, c] (gh = the
// sampling ratio, or ceil(roi_h / PH) when it is 0; likewise gw):
//   out[n, c, ph, pw] = sum_s (w1 in[p1] + w2 in[p2] + w3 in[p3] + w4 in[p4]) / count
// and the backward scatters dout * w_i / count back to the four p_i.
//
// The sample positions p_i and weights w_i depend on the RoI only, not on the
// channel; they are computed once per RoI with mmcv's expressions, term for
// term (so the floats are the same), and shared by all channels. Then
//   forward:  RoIs run in parallel; each output value is one thread's sum, in
//             mmcv's order (samples iy, ix; terms 1..4), then / count.
//   backward: channels run in parallel. A channel's gradient plane receives
//             only that channel's terms, and each thread adds them in mmcv's
//             order (RoI n, bin ph, pw, sample iy, ix, term 1..4), so every
//             gradient is the same sum of the same floats in the same order:
//             no atomics, the result equals mmcv's single-threaded one bitwise.
// Build with -ffp-contract=off: a fused multiply-add would round differently.
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

template <typename T>
struct Sample {  // one bilinear sample: 4 offsets into the (H, W) plane, 4 weights
  int64_t p1, p2, p3, p4;
  T w1, w2, w3, w4;
  bool inside;  // false: the sample lies off the map and mmcv adds no gradient
};

template <typename T>
struct RoIGeometry {
  int64_t batch;
  int64_t grid_h, grid_w;  // samples per bin
  T count;                 // forward divisor: max(grid_h * grid_w, 1)
  T count_backward;        // backward divisor: grid_h * grid_w
  int64_t first;           // index of the RoI's first Sample
};

struct Shape {
  int64_t channels, height, width, pooled_h, pooled_w;
};

// mmcv's bilinear sample at (y, x): the weights and corner offsets, or an empty
// sample (offsets 0, weights 0, inside = false) off the map.
template <typename T>
Sample<T> bilinear(const Shape& s, T y, T x) {
  if (y < -1.0 || y > s.height || x < -1.0 || x > s.width) {
    return {0, 0, 0, 0, 0, 0, 0, 0, false};
  }
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  int y_low = (int)y, x_low = (int)x, y_high, x_high;
  if (y_low >= s.height - 1) {
    y_high = y_low = s.height - 1;
    y = (T)y_low;
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= s.width - 1) {
    x_high = x_low = s.width - 1;
    x = (T)x_low;
  } else {
    x_high = x_low + 1;
  }
  T ly = y - y_low;
  T lx = x - x_low;
  T hy = 1. - ly, hx = 1. - lx;
  return {y_low * s.width + x_low, y_low * s.width + x_high,
          y_high * s.width + x_low, y_high * s.width + x_high,
          hy * hx, hy * lx, ly * hx, ly * lx, true};
}

// Geometry of every RoI and its samples (bin-major, then iy, ix), in mmcv's order.
template <typename T>
void precompute(const Shape& s, const T* rois, int64_t n_rois, T spatial_scale,
                int sampling_ratio, bool aligned, std::vector<RoIGeometry<T>>& geo,
                std::vector<Sample<T>>& samples) {
  geo.resize(n_rois);
  int64_t total = 0;
  std::vector<T> start_h(n_rois), start_w(n_rois), bin_h(n_rois), bin_w(n_rois);
  for (int64_t n = 0; n < n_rois; ++n) {
    const T* r = rois + n * 5;
    T offset = aligned ? (T)0.5 : (T)0.0;
    T roi_start_w = r[1] * spatial_scale - offset;
    T roi_start_h = r[2] * spatial_scale - offset;
    T roi_end_w = r[3] * spatial_scale - offset;
    T roi_end_h = r[4] * spatial_scale - offset;
    T roi_width = roi_end_w - roi_start_w;
    T roi_height = roi_end_h - roi_start_h;
    if (aligned) {
      TORCH_CHECK(roi_width >= 0 && roi_height >= 0,
                  "ROIs in ROIAlign cannot have non-negative size!");
    } else {  // mmcv's legacy mode
      roi_width = std::max(roi_width, (T)1.);
      roi_height = std::max(roi_height, (T)1.);
    }
    T bin_size_h = static_cast<T>(roi_height) / static_cast<T>(s.pooled_h);
    T bin_size_w = static_cast<T>(roi_width) / static_cast<T>(s.pooled_w);
    int grid_h = (sampling_ratio > 0) ? sampling_ratio : ceilf(roi_height / s.pooled_h);
    int grid_w = (sampling_ratio > 0) ? sampling_ratio : ceilf(roi_width / s.pooled_w);
    int batch = r[0];
    geo[n] = {batch, grid_h, grid_w, (T)std::max(grid_h * grid_w, 1),
              (T)(grid_h * grid_w), total};
    start_h[n] = roi_start_h;
    start_w[n] = roi_start_w;
    bin_h[n] = bin_size_h;
    bin_w[n] = bin_size_w;
    total += s.pooled_h * s.pooled_w * std::max(grid_h, 0) * std::max(grid_w, 0);
  }
  samples.resize(total);
  at::parallel_for(0, n_rois, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const RoIGeometry<T>& g = geo[n];
      Sample<T>* out = samples.data() + g.first;
      for (int64_t ph = 0; ph < s.pooled_h; ++ph) {
        for (int64_t pw = 0; pw < s.pooled_w; ++pw) {
          for (int iy = 0; iy < g.grid_h; ++iy) {
            const T y = start_h[n] + ph * bin_h[n] +
                        static_cast<T>(iy + .5f) * bin_h[n] / static_cast<T>(g.grid_h);
            for (int ix = 0; ix < g.grid_w; ++ix) {
              const T x = start_w[n] + pw * bin_w[n] +
                          static_cast<T>(ix + .5f) * bin_w[n] / static_cast<T>(g.grid_w);
              *out++ = bilinear(s, y, x);
            }
          }
        }
      }
    }
  });
}

Shape shape_of(const torch::Tensor& input, int64_t pooled_h, int64_t pooled_w) {
  return {input.size(1), input.size(2), input.size(3), pooled_h, pooled_w};
}

void check_args(const torch::Tensor& input, const torch::Tensor& rois) {
  TORCH_CHECK(input.device().is_cpu() && rois.device().is_cpu(), "roi_align_cpu: CPU tensors only");
  TORCH_CHECK(input.dim() == 4, "roi_align_cpu: input must be (N, C, H, W)");
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, "RoI must be (idx, x1, y1, x2, y2)!");
  TORCH_CHECK(rois.scalar_type() == input.scalar_type(),
              "roi_align_cpu: rois and input must have the same dtype");
}

}  // namespace

torch::Tensor roi_align_forward(torch::Tensor input, torch::Tensor rois, int64_t pooled_h,
                                int64_t pooled_w, double spatial_scale, int64_t sampling_ratio,
                                bool aligned) {
  check_args(input, rois);
  input = input.contiguous();
  rois = rois.contiguous();
  const Shape s = shape_of(input, pooled_h, pooled_w);
  const int64_t n_rois = rois.size(0);
  auto output = torch::zeros({n_rois, s.channels, pooled_h, pooled_w}, input.options());
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "roi_align_forward", [&] {
    std::vector<RoIGeometry<scalar_t>> geo;
    std::vector<Sample<scalar_t>> samples;
    // mmcv passes the scale as a C float, then casts it to scalar_t
    precompute<scalar_t>(s, rois.data_ptr<scalar_t>(), n_rois,
                         static_cast<scalar_t>(static_cast<float>(spatial_scale)),
                         (int)sampling_ratio, aligned, geo, samples);
    const scalar_t* in = input.data_ptr<scalar_t>();
    scalar_t* out = output.data_ptr<scalar_t>();
    const int64_t bins = pooled_h * pooled_w, plane = s.height * s.width;
    at::parallel_for(0, n_rois, 1, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const RoIGeometry<scalar_t>& g = geo[n];
        const int64_t per_bin = (int64_t)g.grid_h * g.grid_w;
        for (int64_t c = 0; c < s.channels; ++c) {
          const scalar_t* x = in + (g.batch * s.channels + c) * plane;
          scalar_t* o = out + (n * s.channels + c) * bins;
          const Sample<scalar_t>* smp = samples.data() + g.first;
          for (int64_t bin = 0; bin < bins; ++bin) {
            scalar_t sum = 0.;
            for (int64_t k = 0; k < per_bin; ++k, ++smp) {
              scalar_t val = smp->w1 * x[smp->p1] + smp->w2 * x[smp->p2] +
                             smp->w3 * x[smp->p3] + smp->w4 * x[smp->p4];
              sum += val;
            }
            o[bin] = sum / g.count;
          }
        }
      }
    });
  });
  return output;
}

torch::Tensor roi_align_backward(torch::Tensor grad_output, torch::Tensor rois,
                                 std::vector<int64_t> input_shape, double spatial_scale,
                                 int64_t sampling_ratio, bool aligned) {
  TORCH_CHECK(input_shape.size() == 4, "roi_align_cpu: input_shape must be (N, C, H, W)");
  TORCH_CHECK(grad_output.dim() == 4 && rois.dim() == 2 && rois.size(1) == 5 &&
                  grad_output.size(0) == rois.size(0) && grad_output.size(1) == input_shape[1],
              "roi_align_cpu: grad_output must be (num_rois, C, PH, PW)");
  grad_output = grad_output.contiguous();
  rois = rois.contiguous();
  auto grad_input = torch::zeros(input_shape, grad_output.options());
  check_args(grad_input, rois);
  const Shape s = shape_of(grad_input, grad_output.size(2), grad_output.size(3));
  const int64_t n_rois = rois.size(0);
  AT_DISPATCH_FLOATING_TYPES(grad_output.scalar_type(), "roi_align_backward", [&] {
    std::vector<RoIGeometry<scalar_t>> geo;
    std::vector<Sample<scalar_t>> samples;
    precompute<scalar_t>(s, rois.data_ptr<scalar_t>(), n_rois,
                         static_cast<scalar_t>(static_cast<float>(spatial_scale)),
                         (int)sampling_ratio, aligned, geo, samples);
    const scalar_t* dout = grad_output.data_ptr<scalar_t>();
    scalar_t* din = grad_input.data_ptr<scalar_t>();
    const int64_t bins = s.pooled_h * s.pooled_w, plane = s.height * s.width;
    at::parallel_for(0, s.channels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        for (int64_t n = 0; n < n_rois; ++n) {
          const RoIGeometry<scalar_t>& g = geo[n];
          const int64_t per_bin = (int64_t)g.grid_h * g.grid_w;
          const scalar_t count = g.count_backward;
          scalar_t* gi = din + (g.batch * s.channels + c) * plane;
          const scalar_t* go = dout + (n * s.channels + c) * bins;
          const Sample<scalar_t>* smp = samples.data() + g.first;
          for (int64_t bin = 0; bin < bins; ++bin) {
            const scalar_t grad = go[bin];
            for (int64_t k = 0; k < per_bin; ++k, ++smp) {
              if (!smp->inside) continue;
              gi[smp->p1] += grad * smp->w1 / count;
              gi[smp->p2] += grad * smp->w2 / count;
              gi[smp->p3] += grad * smp->w3 / count;
              gi[smp->p4] += grad * smp->w4 / count;
            }
          }
        }
      }
    });
  });
  return grad_input;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "Multi-threaded CPU RoIAlign (avg), bit-identical to mmcv's; see roi_align_cpu.cpp";
  m.def("forward", &roi_align_forward, "output (R, C, PH, PW) = RoIAlign(input, rois)");
  m.def("backward", &roi_align_backward, "grad_input (N, C, H, W) of RoIAlign");
}
