// Softmax cross-entropy over the vocabulary fused with its gradient: the
// logits are read, then overwritten in place by dlogits = (softmax - onehot)
// * grad_scale. Probabilities are never stored separately. Rows whose target
// is -100 (ignored) get loss 0 and a zero gradient. The same kernel is the
// sequence-classification loss (rows = sequences, V = labels).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

constexpr int kIgnoreIndex = -100;

// logits (N,V), losses (N), targets (N). One block per row; the row is read
// three times (max, sum, gradient) — it stays in L2 for the vocabularies here.
__global__ void cross_entropy_kernel(float* logits, float* losses, const int32_t* targets, int V, float grad_scale,
                                     bool write_grad) {
    __shared__ float scratch[32];
    const int64_t n = blockIdx.x;
    float* x = logits + n * V;
    const int target = targets[n];
    if (target == kIgnoreIndex || target < 0 || target >= V) {  // uniform per block: no barrier divergence
        if (write_grad)
            for (int i = threadIdx.x; i < V; i += blockDim.x) x[i] = 0.0f;
        if (threadIdx.x == 0) losses[n] = target == kIgnoreIndex ? 0.0f : NAN;  // a bad id poisons the loss
        return;
    }
    const float x_target = x[target];  // read before any thread overwrites the row
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < V; i += blockDim.x) mx = fmaxf(mx, x[i]);
    mx = block_max(mx, scratch);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) sum += expf(x[i] - mx);
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) losses[n] = logf(sum) + mx - x_target;
    if (!write_grad) return;
    const float k = grad_scale / sum;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float p = expf(x[i] - mx) * k;
        x[i] = i == target ? p - grad_scale : p;
    }
}

void cross_entropy(float* logits, float* losses, const int32_t* targets, int N, int V, float grad_scale,
                   bool write_grad, Stream s) {
    if (N == 0) return;
    LAUNCH_KERNEL(cross_entropy_kernel, N, 256, 0, s, logits, losses, targets, V, grad_scale, write_grad);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
