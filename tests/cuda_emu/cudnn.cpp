// A fake cuDNN for lucid's CUDA emulator (tests/cuda_emu/README.md): the legacy
// cuDNN C API calls that lucid makes (kernels/cuda/conv2d.cpp, batch_norm.cpp,
// handles.cpp, runtime.cpp), as plain loops on the CPU. Compiled against the real
// <cudnn.h>; the opaque handle and descriptor structs are defined here.
//
// Everything runs synchronously: the stream of cudnnSetStream is only stored.
// Every function that reads or writes device memory opens a lucid_emu::DeviceScope
// for the handle's device only.
// Float data is computed with double accumulators, double data in double.
//
// The rules enforced are those of NVIDIA's cuDNN API reference (cuDNN 8/9:
// "cudnn_ops" and "cudnn_cnn" library pages, the "Scaling Parameters" section)
// and the comments in cudnn_ops.h / cudnn_cnn.h. A call that breaks one returns
// the documented status and records a message for cudnnGetLastErrorString:
//
//   Descriptors
//   - cudnnSetTensor4dDescriptor / cudnnSetFilter4dDescriptor: a size <= 0 or an
//     invalid format / data type enumerant -> BAD_PARAM; more than 2^31-1
//     elements -> NOT_SUPPORTED. NCHW means strides (CHW, HW, W, 1), NHWC means
//     (HWC, 1, WC, C); NCHW_VECT_C (int8x4/x32 only) -> NOT_SUPPORTED here.
//   - cudnnSetConvolution2dDescriptor: pad < 0, stride <= 0, dilation <= 0 or an
//     invalid mode -> BAD_PARAM. cudnnSetConvolutionGroupCount: count < 1 ->
//     BAD_PARAM. cudnnSetConvolutionMathType: invalid enumerant -> BAD_PARAM.
//   - Using a descriptor that was never set -> BAD_PARAM.
//
//   Scaling parameters (alpha, beta; "Scaling Parameters" in the API reference)
//   - result = alpha * op(...) + beta * prior; alpha/beta are host pointers to
//     float for float data and to double for double data.
//   - When beta == 0 the output is not read (it may hold NaN or garbage).
//
//   Convolution (cudnnConvolutionForward / BackwardData / BackwardFilter,
//   cudnnGetConvolution2dForwardOutputDim)
//   - Output size: 1 + (in + 2*pad - ((filter - 1)*dilation + 1)) / stride.
//   - CUDNN_CONVOLUTION flips the filter spatially; CUDNN_CROSS_CORRELATION does not.
//   - Groups: filter is K x (C/groups) x R x S; input channels must equal
//     filter C * groupCount and K must be a multiple of groupCount.
//   - Null handle/descriptor/data/alpha/beta pointer, x/w/y data types that
//     differ, a y descriptor that is not the output shape, a dilated filter larger
//     than the padded input -> BAD_PARAM.
//   - Supported configurations: FLOAT_CONFIG (float data, float compute type) and
//     DOUBLE_CONFIG (double data, double compute type); any other -> NOT_SUPPORTED.
//   - Math type: float data with CUDNN_DEFAULT_MATH or a TENSOR_OP math type may
//     run on TF32 tensor cores on Ampere and later (the device lucid targets), so
//     this fake rounds x and w to TF32 (10-bit mantissa) then; CUDNN_FMA_MATH is
//     full float32.
//   - Algorithms: this fake implements algorithms 0 and 1 of each pass. Algorithm
//     0 needs no workspace, algorithm 1 needs 4096 bytes; the others are
//     NOT_SUPPORTED (from the workspace-size query and the call). Calling an
//     algorithm with a null workspace or workSpaceSizeInBytes below its need ->
//     BAD_PARAM. As the enum comments in cudnn_ops.h say, backward data and
//     backward filter algorithm 0 are non-deterministic; everything else is
//     deterministic.
//   - *AlgorithmMaxCount returns the *_ALGO_COUNT enumerator count.
//   - *Algorithm_v7 and Find*AlgorithmEx: requestedAlgoCount < 1, a null
//     returnedAlgoCount or perfResults -> BAD_PARAM; they write at most
//     requestedAlgoCount entries, fastest first, supported ones (status SUCCESS,
//     memory = workspace) before unsupported ones (status NOT_SUPPORTED). Find
//     runs the operation (overwriting y / dx / dw) and reports an algorithm that
//     needs more workspace than it was given with status ALLOC_FAILED (in cuDNN 9
//     the value of CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED).
//
//   cudnnAddTensor: C = alpha*A + beta*C; each dimension of A must equal C's or be
//   1 (A is broadcast over it); A and C must have the same data type -> else BAD_PARAM.
//
//   Batch normalization (cudnnBatchNormalizationForwardTraining / Inference /
//   Backward; header comments in cudnn_ops.h)
//   - Modes: SPATIAL and SPATIAL_PERSISTENT (same math here) normalize each
//     channel over N*H*W values, with 1xCx1x1 parameter tensors; PER_ACTIVATION
//     normalizes each (c, h, w) over N values, with 1xCxHxW parameter tensors.
//     Another parameter shape -> BAD_PARAM. The parameter type is double for
//     double data, float otherwise.
//   - epsilon < CUDNN_BN_MIN_EPSILON -> BAD_PARAM.
//   - Training: y = alpha*(scale*(x - mean)/sqrt(var + eps) + bias) + beta*y with
//     the batch mean and biased batch variance. running = factor*batch +
//     (1 - factor)*running, both mean and variance ("factor applied in the same
//     way"); the running variance takes the UNBIASED batch variance
//     (var * m/(m-1), m values per statistic). The API text does not spell this
//     out, but cuDNN does it (measured: apache/mxnet#21111; PyTorch relies on it).
//     The update is the documented formula as written, so with factor 1 a NaN in
//     the old running value still gives NaN (0 * NaN): callers initialize them.
//     resultSaveMean / resultSaveInvVariance = batch mean and 1/sqrt(var + eps).
//     Exactly one of the two running pointers null, or exactly one of the two
//     save pointers null -> BAD_PARAM (both null: skipped).
//   - Inference: y = alpha*(scale*(x - estMean)/sqrt(estVar + eps) + bias) + beta*y.
//   - Backward: dx = alphaDataDiff*dx' + betaDataDiff*dx, dScale/dBias =
//     alphaParamDiff*d' + betaParamDiff*d; savedMean/savedInvVariance (both or
//     neither) come from the forward pass, else mean and 1/sqrt(var + eps) are
//     recomputed from x.
//   - x and y (x, dy, dx) must have the same shape and data type -> else BAD_PARAM.
//
//   Handles, streams, memory (cudnnCreate, cudnnSetStream; as the fake cuBLAS does)
//   - A handle belongs to the device current at cudnnCreate. A NULL handle, one
//     never created or one destroyed -> BAD_PARAM.
//   - cudnnSetStream with a stream of another device -> CUDNN_STATUS_MAPPING_ERROR
//     ("mismatch between the user stream and the cuDNN handle context").
//   - A call whose stored stream is destroyed or belongs to another device (the
//     default stream: that device must be current) -> EXECUTION_FAILED (the
//     kernel launch fails).
//   - Every tensor, filter and workspace byte a call touches must lie inside one
//     live allocation of the handle's device; else the emulator aborts with
//     lucid_emu::fail, as a GPU would fault (host memory, another device's
//     memory, a buffer too small for its descriptor).
#include <cudnn.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emu_runtime.h"

// ---- the opaque structs of cudnn.h --------------------------------------------------

struct cudnnContext {
  int device = 0;                 // the device current at cudnnCreate: its kernels run there
  cudaStream_t stream = nullptr;  // stored only: every call is synchronous
};

// A 4-d tensor: sizes, strides (in elements) and data type.
struct cudnnTensorStruct {
  bool is_set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int n = 0, c = 0, h = 0, w = 0;
  int64_t n_stride = 0, c_stride = 0, h_stride = 0, w_stride = 0;
};

// A 4-d filter K x C x R x S in NCHW (KCRS) or NHWC (KRSC) order.
struct cudnnFilterStruct {
  bool is_set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW;
  int k = 0, c = 0, r = 0, s = 0;
};

struct cudnnConvolutionStruct {
  bool is_set = false;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  cudnnDataType_t compute_type = CUDNN_DATA_FLOAT;
  int groups = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

namespace {

// ---- errors --------------------------------------------------------------------------

thread_local std::string last_error;

// Records "api: what" for cudnnGetLastErrorString and returns status.
cudnnStatus_t error(cudnnStatus_t status, const char* api, const std::string& what) {
  last_error = std::string(api) + ": " + what;
  return status;
}

cudnnStatus_t bad_param(const char* api, const std::string& what) { return error(CUDNN_STATUS_BAD_PARAM, api, what); }
cudnnStatus_t not_supported(const char* api, const std::string& what) {
  return error(CUDNN_STATUS_NOT_SUPPORTED, api, what);
}

// A device buffer argument of a call: name, pointer and the bytes the call touches.
struct Buffer {
  const char* name;
  const void* pointer;
  size_t bytes;
};

// BAD_PARAM when a (required) buffer pointer is NULL.
template <size_t N>
cudnnStatus_t check_not_null(const char* api, const Buffer (&buffers)[N]) {
  for (const Buffer& b : buffers)
    if (b.pointer == nullptr) return bad_param(api, std::string(b.name) + " is NULL");
  return CUDNN_STATUS_SUCCESS;
}

// Aborts unless [pointer, pointer + bytes) lies inside one live allocation of `device`:
// a GPU would fault on host memory, another device's memory or a read past the end.
void require_on_device(const char* api, const Buffer& b, int device) {
  if (b.pointer == nullptr || b.bytes == 0) return;
  if (lucid_emu::device_of(b.pointer) != device || !lucid_emu::device_range_valid(b.pointer, b.bytes))
    lucid_emu::fail(std::string(api) + ": " + b.name + " (" + std::to_string(b.bytes) + " bytes from " +
                    std::to_string(reinterpret_cast<uintptr_t>(b.pointer)) +
                    ") is not inside one allocation of the handle's device " + std::to_string(device));
}

// require_on_device for each buffer (NULL optional buffers are skipped).
template <size_t N>
void require_on_device(const char* api, const Buffer (&buffers)[N], int device) {
  for (const Buffer& b : buffers) require_on_device(api, b, device);
}

// The handles cudnnCreate made and cudnnDestroy has not destroyed yet.
std::mutex live_handles_mutex;
std::set<cudnnHandle_t> live_handles;

// BAD_PARAM for a NULL handle, one never created or one already destroyed.
cudnnStatus_t check_handle(const char* api, cudnnHandle_t handle) {
  if (handle == nullptr) return bad_param(api, "handle is NULL");
  std::lock_guard<std::mutex> lock(live_handles_mutex);
  if (live_handles.count(handle) == 0) return bad_param(api, "handle was never created or is destroyed");
  return CUDNN_STATUS_SUCCESS;
}

// A kernel launched on a destroyed stream, or on another device's stream (the
// default stream is the current device's), fails: EXECUTION_FAILED.
cudnnStatus_t check_stream(const char* api, cudnnHandle_t handle) {
  const int stream_device = lucid_emu::stream_device(handle->stream);
  if (stream_device != handle->device)
    return error(CUDNN_STATUS_EXECUTION_FAILED, api,
                 "the handle's stream belongs to device " + std::to_string(stream_device) + ", the handle to device " +
                     std::to_string(handle->device));
  return CUDNN_STATUS_SUCCESS;
}

// ---- small helpers ---------------------------------------------------------------------

std::string dims_text(int a, int b, int c, int d) {
  std::string r = "[";  // appended step by step: gcc 12 warns falsely (-Wrestrict) on "[" + ...
  r += std::to_string(a);
  r += ", ";
  r += std::to_string(b);
  r += ", ";
  r += std::to_string(c);
  r += ", ";
  r += std::to_string(d);
  r += "]";
  return r;
}
std::string dims_text(const cudnnTensorStruct& t) { return dims_text(t.n, t.c, t.h, t.w); }

bool is_valid_data_type(cudnnDataType_t t) { return t >= CUDNN_DATA_FLOAT && t <= CUDNN_DATA_COMPLEX_FP64; }
bool is_float_or_double(cudnnDataType_t t) { return t == CUDNN_DATA_FLOAT || t == CUDNN_DATA_DOUBLE; }

int64_t numel(const cudnnTensorStruct& t) { return int64_t(t.n) * t.c * t.h * t.w; }
int64_t numel(const cudnnFilterStruct& f) { return int64_t(f.k) * f.c * f.r * f.s; }

// Bytes of a packed tensor or filter of float or double data.
size_t element_size(cudnnDataType_t t) { return t == CUDNN_DATA_DOUBLE ? 8 : 4; }
size_t bytes_of(const cudnnTensorStruct& t) { return size_t(numel(t)) * element_size(t.type); }
size_t bytes_of(const cudnnFilterStruct& f) { return size_t(numel(f)) * element_size(f.type); }

// Memory offset of element (n, c, h, w): n*nStride + c*cStride + h*hStride + w*wStride.
int64_t offset(const cudnnTensorStruct& t, int64_t n, int64_t c, int64_t h, int64_t w) {
  return n * t.n_stride + c * t.c_stride + h * t.h_stride + w * t.w_stride;
}

// Memory offset of filter element (k, c, r, s): KCRS order for NCHW, KRSC for NHWC.
int64_t offset(const cudnnFilterStruct& f, int64_t k, int64_t c, int64_t r, int64_t s) {
  if (f.format == CUDNN_TENSOR_NHWC) return ((k * f.r + r) * f.s + s) * f.c + c;
  return ((k * f.c + c) * f.r + r) * f.s + s;
}

// A scaling factor: *(const double*)p for double data, else *(const float*)p.
double scaling_factor(const void* p, cudnnDataType_t data_type) {
  if (data_type == CUDNN_DATA_DOUBLE) return *static_cast<const double*>(p);
  return *static_cast<const float*>(p);
}

// out[i] = alpha*value + beta*out[i], without reading out[i] when beta == 0.
template <class T>
void blend(T* out, int64_t i, double value, double alpha, double beta) {
  const double prior = beta == 0 ? 0.0 : beta * static_cast<double>(out[i]);
  out[i] = static_cast<T>(alpha * value + prior);
}

// v rounded to TF32 (8-bit exponent, 10-bit mantissa; to nearest, ties away from zero).
float round_to_tf32(float v) {
  if (!std::isfinite(v)) return v;
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits = (bits + 0x1000u) & ~0x1FFFu;
  std::memcpy(&v, &bits, sizeof bits);
  return v;
}

// A tensor descriptor that was created and set.
cudnnStatus_t check_tensor(const char* api, const char* name, const cudnnTensorStruct* t) {
  if (t == nullptr) return bad_param(api, std::string(name) + " descriptor is NULL");
  if (!t->is_set) return bad_param(api, std::string(name) + " descriptor was never set");
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

// ---- library, handle, errors ------------------------------------------------------------

// The version this fake stands in for: the header's CUDNN_VERSION.
size_t cudnnGetVersion(void) { return CUDNN_VERSION; }

// The enumerator name of a status, as cuDNN prints it.
const char* cudnnGetErrorString(cudnnStatus_t status) {
  switch (status) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH: return "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH";
    case CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH: return "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH";
    case CUDNN_STATUS_DEPRECATED: return "CUDNN_STATUS_DEPRECATED";
    case CUDNN_STATUS_LICENSE_ERROR: return "CUDNN_STATUS_LICENSE_ERROR";
    case CUDNN_STATUS_RUNTIME_IN_PROGRESS: return "CUDNN_STATUS_RUNTIME_IN_PROGRESS";
    case CUDNN_STATUS_RUNTIME_FP_OVERFLOW: return "CUDNN_STATUS_RUNTIME_FP_OVERFLOW";
    case CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED: return "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER: return "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER";
    case CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED: return "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED";
    case CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND: return "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND";
    case CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT: return "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT";
    case CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH: return "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH";
    case CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH: return "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH";
    case CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES: return "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES";
    case CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE: return "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE";
    case CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH: return "CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH";
    case CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE: return "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN: return "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN";
    case CUDNN_STATUS_NOT_SUPPORTED_SHAPE: return "CUDNN_STATUS_NOT_SUPPORTED_SHAPE";
    case CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE: return "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE";
    case CUDNN_STATUS_NOT_SUPPORTED_LAYOUT: return "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT";
    case CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER:
      return "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER";
    case CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART: return "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART";
    case CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH: return "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH";
    case CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING:
      return "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING";
    case CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE: return "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE";
    case CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT:
      return "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT";
    case CUDNN_STATUS_NOT_SUPPORTED_PADDING: return "CUDNN_STATUS_NOT_SUPPORTED_PADDING";
    case CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM: return "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API: return "CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API";
    case CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE: return "CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE";
    case CUDNN_STATUS_INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
    case CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED: return "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED";
    case CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE: return "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE";
    case CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED:
      return "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED";
    case CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED:
      return "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED";
    case CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM: return "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM";
    case CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED:
      return "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    case CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER: return "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER";
    case CUDNN_STATUS_EXECUTION_FAILED_CUBLAS: return "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS";
    case CUDNN_STATUS_EXECUTION_FAILED_CUDART: return "CUDNN_STATUS_EXECUTION_FAILED_CUDART";
    case CUDNN_STATUS_EXECUTION_FAILED_CURAND: return "CUDNN_STATUS_EXECUTION_FAILED_CURAND";
    default: return "CUDNN_STATUS_UNKNOWN (not a cudnnStatus_t value)";
  }
}

// Copies the last error message of this thread (truncated to max_size - 1 chars, NUL-terminated).
void cudnnGetLastErrorString(char* message, size_t max_size) {
  if (message == nullptr || max_size == 0) return;
  const size_t n = last_error.size() < max_size - 1 ? last_error.size() : max_size - 1;
  std::memcpy(message, last_error.data(), n);
  message[n] = '\0';
}

// *handle = a new context (no stream).
cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  if (handle == nullptr) return bad_param("cudnnCreate", "handle is NULL");
  *handle = new cudnnContext;
  (*handle)->device = lucid_emu::current_device();
  std::lock_guard<std::mutex> lock(live_handles_mutex);
  live_handles.insert(*handle);
  return CUDNN_STATUS_SUCCESS;
}

// Frees the context.
cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  if (cudnnStatus_t st = check_handle("cudnnDestroy", handle); st != CUDNN_STATUS_SUCCESS) return st;
  {
    std::lock_guard<std::mutex> lock(live_handles_mutex);
    live_handles.erase(handle);
  }
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}

// Stores the stream (work here is synchronous, so stream order holds anyway). A
// stream of another device than the handle's -> CUDNN_STATUS_MAPPING_ERROR.
cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId) {
  const char* api = "cudnnSetStream";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  const int stream_device = lucid_emu::stream_device(streamId);
  if (streamId != nullptr && stream_device >= 0 && stream_device != handle->device)
    return error(CUDNN_STATUS_MAPPING_ERROR, api,
                 "stream of device " + std::to_string(stream_device) + " for a handle of device " +
                     std::to_string(handle->device));
  handle->stream = streamId;
  return CUDNN_STATUS_SUCCESS;
}

// *streamId = the stored stream.
cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t* streamId) {
  if (cudnnStatus_t st = check_handle("cudnnGetStream", handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (streamId == nullptr) return bad_param("cudnnGetStream", "streamId is NULL");
  *streamId = handle->stream;
  return CUDNN_STATUS_SUCCESS;
}

// ---- tensor descriptors ----------------------------------------------------------------------

// What a 4-d tensor and a 4-d filter descriptor both require: positive sizes, a
// valid data type, NCHW or NHWC, at most 2^31-1 elements.
static cudnnStatus_t check_4d(const char* api, cudnnDataType_t type, cudnnTensorFormat_t format, int a, int b, int c,
                       int d) {
  if (a <= 0 || b <= 0 || c <= 0 || d <= 0) return bad_param(api, "sizes must be positive, got " + dims_text(a, b, c, d));
  if (!is_valid_data_type(type)) return bad_param(api, "invalid dataType " + std::to_string(int(type)));
  if (format == CUDNN_TENSOR_NCHW_VECT_C) return not_supported(api, "CUDNN_TENSOR_NCHW_VECT_C is not emulated");
  if (format != CUDNN_TENSOR_NCHW && format != CUDNN_TENSOR_NHWC)
    return bad_param(api, "invalid format " + std::to_string(int(format)));
  if (int64_t(a) * b * c * d > INT_MAX) return not_supported(api, "more than 2^31-1 elements: " + dims_text(a, b, c, d));
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* tensorDesc) {
  if (tensorDesc == nullptr) return bad_param("cudnnCreateTensorDescriptor", "tensorDesc is NULL");
  *tensorDesc = new cudnnTensorStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t tensorDesc) {
  delete tensorDesc;  // NULL is a no-op
  return CUDNN_STATUS_SUCCESS;
}

// A packed n x c x h x w tensor: NCHW strides (chw, hw, w, 1), NHWC strides (hwc, 1, wc, c).
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t tensorDesc, cudnnTensorFormat_t format,
                                         cudnnDataType_t dataType, int n, int c, int h, int w) {
  const char* api = "cudnnSetTensor4dDescriptor";
  if (tensorDesc == nullptr) return bad_param(api, "tensorDesc is NULL");
  if (cudnnStatus_t st = check_4d(api, dataType, format, n, c, h, w); st != CUDNN_STATUS_SUCCESS) return st;
  cudnnTensorStruct& t = *tensorDesc;
  t.type = dataType;
  t.n = n, t.c = c, t.h = h, t.w = w;
  if (format == CUDNN_TENSOR_NCHW) {
    t.w_stride = 1, t.h_stride = w, t.c_stride = int64_t(h) * w, t.n_stride = int64_t(c) * h * w;
  } else {
    t.c_stride = 1, t.w_stride = c, t.h_stride = int64_t(w) * c, t.n_stride = int64_t(h) * w * c;
  }
  t.is_set = true;
  return CUDNN_STATUS_SUCCESS;
}

// ---- filter descriptors ------------------------------------------------------------------------

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* filterDesc) {
  if (filterDesc == nullptr) return bad_param("cudnnCreateFilterDescriptor", "filterDesc is NULL");
  *filterDesc = new cudnnFilterStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t filterDesc) {
  delete filterDesc;  // NULL is a no-op
  return CUDNN_STATUS_SUCCESS;
}

// A k x c x h x w filter (output maps, input maps per group, height, width) in KCRS or KRSC order.
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t filterDesc, cudnnDataType_t dataType,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
  const char* api = "cudnnSetFilter4dDescriptor";
  if (filterDesc == nullptr) return bad_param(api, "filterDesc is NULL");
  if (cudnnStatus_t st = check_4d(api, dataType, format, k, c, h, w); st != CUDNN_STATUS_SUCCESS) return st;
  cudnnFilterStruct& f = *filterDesc;
  f.type = dataType;
  f.format = format;
  f.k = k, f.c = c, f.r = h, f.s = w;
  f.is_set = true;
  return CUDNN_STATUS_SUCCESS;
}

// ---- convolution descriptors ---------------------------------------------------------------------

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* convDesc) {
  if (convDesc == nullptr) return bad_param("cudnnCreateConvolutionDescriptor", "convDesc is NULL");
  *convDesc = new cudnnConvolutionStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t convDesc) {
  delete convDesc;  // NULL is a no-op
  return CUDNN_STATUS_SUCCESS;
}

// Padding, stride (u, v), dilation, mode and compute type of a 2-d convolution.
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t convDesc, int pad_h, int pad_w, int u, int v,
                                              int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType) {
  const char* api = "cudnnSetConvolution2dDescriptor";
  if (convDesc == nullptr) return bad_param(api, "convDesc is NULL");
  if (pad_h < 0 || pad_w < 0) return bad_param(api, "negative padding");
  if (u <= 0 || v <= 0) return bad_param(api, "stride must be positive");
  if (dilation_h <= 0 || dilation_w <= 0) return bad_param(api, "dilation must be positive");
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)
    return bad_param(api, "invalid mode " + std::to_string(int(mode)));
  if (!is_valid_data_type(computeType))
    return bad_param(api, "invalid computeType " + std::to_string(int(computeType)));
  cudnnConvolutionStruct& d = *convDesc;
  d.pad_h = pad_h, d.pad_w = pad_w, d.stride_h = u, d.stride_w = v;
  d.dilation_h = dilation_h, d.dilation_w = dilation_w;
  d.mode = mode;
  d.compute_type = computeType;
  d.is_set = true;
  return CUDNN_STATUS_SUCCESS;
}

// Number of groups: the channels split into groupCount independent convolutions.
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t convDesc, int groupCount) {
  const char* api = "cudnnSetConvolutionGroupCount";
  if (convDesc == nullptr) return bad_param(api, "convDesc is NULL");
  if (groupCount < 1) return bad_param(api, "groupCount must be positive, got " + std::to_string(groupCount));
  convDesc->groups = groupCount;
  return CUDNN_STATUS_SUCCESS;
}

// Which math (FMA only, TF32/tensor cores permitted) the convolution may use.
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t convDesc, cudnnMathType_t mathType) {
  const char* api = "cudnnSetConvolutionMathType";
  if (convDesc == nullptr) return bad_param(api, "convDesc is NULL");
  if (mathType != CUDNN_DEFAULT_MATH && mathType != CUDNN_TENSOR_OP_MATH &&
      mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION && mathType != CUDNN_FMA_MATH)
    return bad_param(api, "invalid mathType " + std::to_string(int(mathType)));
  convDesc->math = mathType;
  return CUDNN_STATUS_SUCCESS;
}

namespace {

// ---- convolution geometry ------------------------------------------------------------------------

// out = 1 + (in + 2*pad - ((filter - 1)*dilation + 1)) / stride, or <= 0 when the filter does not fit.
int conv_output_size(int in, int pad, int filter, int dilation, int stride) {
  const int64_t span = int64_t(filter - 1) * dilation + 1;
  const int64_t room = int64_t(in) + 2 * int64_t(pad) - span;
  if (room < 0) return 0;
  return static_cast<int>(1 + room / stride);
}

// A checked convolution problem: x [N, C, H, W], w [K, C/G, R, S], y [N, K, P, Q].
struct ConvProblem {
  const cudnnTensorStruct* x;
  const cudnnFilterStruct* w;
  const cudnnConvolutionStruct* conv;
  const cudnnTensorStruct* y;
  cudnnDataType_t type;
  bool tf32;  // float data whose math type permits tensor cores: inputs rounded to TF32
};

// Checks the x, w and conv descriptors and computes the output dims (N, K, P, Q).
cudnnStatus_t conv_output_dims(const char* api, const cudnnTensorStruct* x, const cudnnFilterStruct* w,
                               const cudnnConvolutionStruct* conv, int out[4]) {
  if (cudnnStatus_t st = check_tensor(api, "x", x); st != CUDNN_STATUS_SUCCESS) return st;
  if (w == nullptr) return bad_param(api, "filter descriptor is NULL");
  if (!w->is_set) return bad_param(api, "filter descriptor was never set");
  if (conv == nullptr) return bad_param(api, "convolution descriptor is NULL");
  if (!conv->is_set) return bad_param(api, "convolution descriptor was never set");
  if (int64_t(w->c) * conv->groups != x->c)
    return bad_param(api, "input has " + std::to_string(x->c) + " channels but the filter " + std::to_string(w->c) +
                              " per group x " + std::to_string(conv->groups) + " groups");
  if (w->k % conv->groups != 0)
    return bad_param(api, "filter has " + std::to_string(w->k) + " output channels, not a multiple of " +
                              std::to_string(conv->groups) + " groups");
  const int p = conv_output_size(x->h, conv->pad_h, w->r, conv->dilation_h, conv->stride_h);
  const int q = conv_output_size(x->w, conv->pad_w, w->s, conv->dilation_w, conv->stride_w);
  if (p <= 0 || q <= 0)
    return bad_param(api, "the dilated filter " + std::to_string(w->r) + "x" + std::to_string(w->s) +
                              " is larger than the padded input " + dims_text(*x));
  out[0] = x->n, out[1] = w->k, out[2] = p, out[3] = q;
  return CUDNN_STATUS_SUCCESS;
}

// Checks all four descriptors of a convolution call and fills *p.
cudnnStatus_t conv_problem(const char* api, const cudnnTensorStruct* x, const cudnnFilterStruct* w,
                           const cudnnConvolutionStruct* conv, const cudnnTensorStruct* y, ConvProblem* p) {
  int out[4];
  if (cudnnStatus_t st = conv_output_dims(api, x, w, conv, out); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_tensor(api, "y", y); st != CUDNN_STATUS_SUCCESS) return st;
  if (y->n != out[0] || y->c != out[1] || y->h != out[2] || y->w != out[3])
    return bad_param(api, "output descriptor is " + dims_text(*y) + " but input " + dims_text(*x) + " and filter " +
                              dims_text(w->k, w->c, w->r, w->s) + " give " + dims_text(out[0], out[1], out[2], out[3]));
  if (x->type != w->type || x->type != y->type) return bad_param(api, "x, w and y have different data types");
  if (!is_float_or_double(x->type))
    return not_supported(api, "data type " + std::to_string(int(x->type)) + " is not emulated (float, double only)");
  if (conv->compute_type != x->type)
    return not_supported(api, "data type " + std::to_string(int(x->type)) + " with compute type " +
                                  std::to_string(int(conv->compute_type)) + " is none of FLOAT_CONFIG / DOUBLE_CONFIG");
  p->x = x, p->w = w, p->conv = conv, p->y = y;
  p->type = x->type;
  p->tf32 = x->type == CUDNN_DATA_FLOAT && conv->math != CUDNN_FMA_MATH;
  return CUDNN_STATUS_SUCCESS;
}

// Calls tap(x_offset, w_offset, y_offset) once for every product x*w that forward
// convolution adds into y: y[n, k, p, q] += x[n, g*C/G + c, p*u - pad + r*dil, ...] * w[k, c, r', s'],
// with r' = r (cross-correlation) or R-1-r (convolution: the filter flipped).
template <class Tap>
void for_each_tap(const ConvProblem& pr, Tap&& tap) {
  const cudnnTensorStruct& x = *pr.x;
  const cudnnFilterStruct& w = *pr.w;
  const cudnnConvolutionStruct& cv = *pr.conv;
  const cudnnTensorStruct& y = *pr.y;
  const int groups = cv.groups, k_per_group = w.k / groups, c_per_group = w.c;
  const bool flip = cv.mode == CUDNN_CONVOLUTION;
  for (int n = 0; n < y.n; ++n)
    for (int k = 0; k < y.c; ++k) {
      const int g = k / k_per_group;
      for (int p = 0; p < y.h; ++p)
        for (int q = 0; q < y.w; ++q) {
          const int64_t y_off = offset(y, n, k, p, q);
          for (int c = 0; c < c_per_group; ++c)
            for (int r = 0; r < w.r; ++r) {
              const int ih = p * cv.stride_h - cv.pad_h + r * cv.dilation_h;
              if (ih < 0 || ih >= x.h) continue;
              for (int s = 0; s < w.s; ++s) {
                const int iw = q * cv.stride_w - cv.pad_w + s * cv.dilation_w;
                if (iw < 0 || iw >= x.w) continue;
                const int fr = flip ? w.r - 1 - r : r, fs = flip ? w.s - 1 - s : s;
                tap(offset(x, n, g * c_per_group + c, ih, iw), offset(w, k, c, fr, fs), y_off);
              }
            }
        }
    }
}

// An input value as the convolution multiplies it (rounded to TF32 when tensor cores are permitted).
template <class T>
double conv_input(const ConvProblem& pr, T v) {
  if (pr.tf32) return round_to_tf32(static_cast<float>(v));
  return static_cast<double>(v);
}

// y = alpha * conv(x, w) + beta * y.
template <class T>
void conv_forward(const ConvProblem& pr, double alpha, const T* x, const T* w, double beta, T* y) {
  std::vector<double> acc(numel(*pr.y), 0.0);
  for_each_tap(pr,
               [&](int64_t xi, int64_t wi, int64_t yi) { acc[yi] += conv_input(pr, x[xi]) * conv_input(pr, w[wi]); });
  for (int64_t i = 0; i < int64_t(acc.size()); ++i) blend(y, i, acc[i], alpha, beta);
}

// dx = alpha * conv^T(dy, w) + beta * dx: every forward product x*w sends dy*w back to x.
template <class T>
void conv_backward_data(const ConvProblem& pr, double alpha, const T* w, const T* dy, double beta, T* dx) {
  std::vector<double> acc(numel(*pr.x), 0.0);
  for_each_tap(pr,
               [&](int64_t xi, int64_t wi, int64_t yi) { acc[xi] += conv_input(pr, dy[yi]) * conv_input(pr, w[wi]); });
  for (int64_t i = 0; i < int64_t(acc.size()); ++i) blend(dx, i, acc[i], alpha, beta);
}

// dw = alpha * sum over n, p, q of x * dy + beta * dw: every forward product x*w sends x*dy back to w.
template <class T>
void conv_backward_filter(const ConvProblem& pr, double alpha, const T* x, const T* dy, double beta, T* dw) {
  std::vector<double> acc(numel(*pr.w), 0.0);
  for_each_tap(pr,
               [&](int64_t xi, int64_t wi, int64_t yi) { acc[wi] += conv_input(pr, x[xi]) * conv_input(pr, dy[yi]); });
  for (int64_t i = 0; i < int64_t(acc.size()); ++i) blend(dw, i, acc[i], alpha, beta);
}

// ---- algorithms --------------------------------------------------------------------------------

// One implemented algorithm: its enum value, a made-up time (ms), workspace bytes, determinism.
struct AlgoInfo {
  int algo;
  float time_ms;
  size_t workspace;
  cudnnDeterminism_t determinism;
};

// Fastest first. Algorithm 0 needs no workspace, algorithm 1 needs 4096 bytes.
constexpr AlgoInfo kForwardAlgos[] = {
    {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, 1.0f, 4096, CUDNN_DETERMINISTIC},
    {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 2.0f, 0, CUDNN_DETERMINISTIC}};
constexpr AlgoInfo kBackwardDataAlgos[] = {{CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, 1.0f, 0, CUDNN_NON_DETERMINISTIC},
                                           {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, 2.0f, 4096, CUDNN_DETERMINISTIC}};
constexpr AlgoInfo kBackwardFilterAlgos[] = {{CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, 1.0f, 0, CUDNN_NON_DETERMINISTIC},
                                             {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, 2.0f, 4096, CUDNN_DETERMINISTIC}};

// The table entry of algo, or nullptr when this fake does not implement it.
template <size_t N>
const AlgoInfo* find_algo(const AlgoInfo (&table)[N], int algo) {
  for (const AlgoInfo& a : table)
    if (a.algo == algo) return &a;
  return nullptr;
}

// The algorithm's entry, or BAD_PARAM (not an enumerant) / NOT_SUPPORTED (not implemented).
template <size_t N>
cudnnStatus_t lookup_algo(const char* api, const AlgoInfo (&table)[N], int algo, int algo_count,
                          const AlgoInfo** info) {
  if (algo < 0 || algo >= algo_count) return bad_param(api, "invalid algo " + std::to_string(algo));
  *info = find_algo(table, algo);
  if (*info == nullptr) return not_supported(api, "algo " + std::to_string(algo) + " is not emulated (only 0 and 1)");
  return CUDNN_STATUS_SUCCESS;
}

// The workspace an algorithm needs must be given: non-null and at least that many bytes.
cudnnStatus_t check_workspace(const char* api, const AlgoInfo& a, const void* workspace, size_t bytes) {
  if (a.workspace == 0) return CUDNN_STATUS_SUCCESS;
  if (workspace == nullptr)
    return bad_param(api, "algo " + std::to_string(a.algo) + " needs " + std::to_string(a.workspace) +
                              " bytes of workspace, got NULL");
  if (bytes < a.workspace)
    return bad_param(api, "algo " + std::to_string(a.algo) + " needs " + std::to_string(a.workspace) +
                              " bytes of workspace, got " + std::to_string(bytes));
  return CUDNN_STATUS_SUCCESS;
}

// Fills perf results (any of the three Perf structs): implemented algorithms fastest
// first, then the others as NOT_SUPPORTED; at most `requested` entries. An
// implemented algorithm whose workspace exceeds `workspace_limit` gets ALLOC_FAILED.
template <class Perf, class Algo, size_t N>
void fill_perf(const AlgoInfo (&table)[N], int algo_count, cudnnMathType_t math, size_t workspace_limit, int requested,
               int* returned, Perf* perf) {
  int count = 0;
  auto add = [&](int algo, cudnnStatus_t status, float time, size_t memory, cudnnDeterminism_t det) {
    if (count >= requested) return;
    Perf& r = perf[count++];
    r = Perf{};
    r.algo = static_cast<Algo>(algo);
    r.status = status;
    r.time = time;
    r.memory = memory;
    r.determinism = det;
    r.mathType = math;
  };
  for (const AlgoInfo& a : table) {
    if (a.workspace <= workspace_limit) add(a.algo, CUDNN_STATUS_SUCCESS, a.time_ms, a.workspace, a.determinism);
  }
  for (const AlgoInfo& a : table) {
    if (a.workspace > workspace_limit)
      add(a.algo, CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED, -1.0f, a.workspace, a.determinism);
  }
  for (int algo = 0; algo < algo_count; ++algo)
    if (find_algo(table, algo) == nullptr) add(algo, CUDNN_STATUS_NOT_SUPPORTED, -1.0f, 0, CUDNN_NON_DETERMINISTIC);
  *returned = count;
}

// The checks shared by *Algorithm_v7 and Find*AlgorithmEx on their counts and outputs.
cudnnStatus_t check_perf_request(const char* api, cudnnHandle_t handle, int requested, const int* returned,
                                 const void* perf) {
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (requested < 1) return bad_param(api, "requestedAlgoCount must be at least 1, got " + std::to_string(requested));
  if (returned == nullptr) return bad_param(api, "returnedAlgoCount is NULL");
  if (perf == nullptr) return bad_param(api, "perfResults is NULL");
  return CUDNN_STATUS_SUCCESS;
}

// The most workspace any implemented algorithm that fits in `bytes` uses (what Find scribbles on).
template <size_t N>
size_t workspace_used_by_find(const AlgoInfo (&table)[N], const void* workspace, size_t bytes) {
  size_t most = 0;
  for (const AlgoInfo& a : table)
    if (workspace != nullptr && a.workspace <= bytes && a.workspace > most) most = a.workspace;
  return most;
}

// The pass of a convolution.
enum class Pass { Forward, BackwardData, BackwardFilter };

// out = alpha * op(in1, in2) + beta * out for data type T. Forward: in1 = x, in2 = w,
// out = y. BackwardData: in1 = w, in2 = dy, out = dx. BackwardFilter: in1 = x, in2 = dy, out = dw.
template <class T>
void run_pass_typed(Pass pass, const ConvProblem& pr, double alpha, const void* in1, const void* in2, double beta,
                    void* out) {
  const T* a = static_cast<const T*>(in1);
  const T* b = static_cast<const T*>(in2);
  T* c = static_cast<T*>(out);
  if (pass == Pass::Forward) conv_forward(pr, alpha, a, b, beta, c);
  if (pass == Pass::BackwardData) conv_backward_data(pr, alpha, a, b, beta, c);
  if (pass == Pass::BackwardFilter) conv_backward_filter(pr, alpha, a, b, beta, c);
}

// Runs one pass on the handle's device: checks the three data buffers (in1, in2, out;
// NULL -> BAD_PARAM) and the stream, opens the device's memory, checks every buffer
// lies in it, scribbles over the workspace_used bytes of workspace, and computes.
cudnnStatus_t launch_pass(const char* api, cudnnHandle_t handle, Pass pass, const ConvProblem& pr,
                          const Buffer (&data)[3], const void* alpha, const void* beta, void* workspace,
                          size_t workspace_used) {
  if (cudnnStatus_t st = check_not_null(api, data); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_stream(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  const double a = scaling_factor(alpha, pr.type), b = scaling_factor(beta, pr.type);  // host memory
  lucid_emu::DeviceScope device(handle->device);  // only the handle's device memory opens
  require_on_device(api, data, handle->device);
  require_on_device(api, Buffer{"workspace", workspace, workspace_used}, handle->device);
  if (workspace_used > 0) std::memset(workspace, 0xA5, workspace_used);  // as a real algorithm would use it
  void* out = const_cast<void*>(data[2].pointer);
  if (pr.type == CUDNN_DATA_DOUBLE)
    run_pass_typed<double>(pass, pr, a, data[0].pointer, data[1].pointer, b, out);
  else
    run_pass_typed<float>(pass, pr, a, data[0].pointer, data[1].pointer, b, out);
  return CUDNN_STATUS_SUCCESS;
}

const float kOneFloat = 1.0f, kZeroFloat = 0.0f;
const double kOneDouble = 1.0, kZeroDouble = 0.0;
const void* one_for(cudnnDataType_t t) {
  return t == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&kOneDouble) : &kOneFloat;
}
const void* zero_for(cudnnDataType_t t) {
  return t == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&kZeroDouble) : &kZeroFloat;
}

}  // namespace

// ---- convolution: output size, algorithm counts and choices, workspace -------------------------

// The output dims N x K x P x Q of convolving inputTensorDesc with filterDesc.
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t convDesc,
                                                    const cudnnTensorDescriptor_t inputTensorDesc,
                                                    const cudnnFilterDescriptor_t filterDesc, int* n, int* c, int* h,
                                                    int* w) {
  const char* api = "cudnnGetConvolution2dForwardOutputDim";
  if (n == nullptr || c == nullptr || h == nullptr || w == nullptr) return bad_param(api, "an output pointer is NULL");
  int out[4];
  if (cudnnStatus_t st = conv_output_dims(api, inputTensorDesc, filterDesc, convDesc, out); st != CUDNN_STATUS_SUCCESS)
    return st;
  *n = out[0], *c = out[1], *h = out[2], *w = out[3];
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  const char* api = "cudnnGetConvolutionForwardAlgorithmMaxCount";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (count == nullptr) return bad_param(api, "count is NULL");
  *count = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  const char* api = "cudnnGetConvolutionBackwardDataAlgorithmMaxCount";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (count == nullptr) return bad_param(api, "count is NULL");
  *count = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnnHandle_t handle, int* count) {
  const char* api = "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (count == nullptr) return bad_param(api, "count is NULL");
  *count = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  return CUDNN_STATUS_SUCCESS;
}

// The algorithms for this forward problem, expected fastest first (no data touched).
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc,
                                                     const cudnnFilterDescriptor_t filterDesc,
                                                     const cudnnConvolutionDescriptor_t convDesc,
                                                     const cudnnTensorDescriptor_t destDesc,
                                                     const int requestedAlgoCount, int* returnedAlgoCount,
                                                     cudnnConvolutionFwdAlgoPerf_t* perfResults) {
  const char* api = "cudnnGetConvolutionForwardAlgorithm_v7";
  if (cudnnStatus_t st = check_perf_request(api, handle, requestedAlgoCount, returnedAlgoCount, perfResults);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, srcDesc, filterDesc, convDesc, destDesc, &pr); st != CUDNN_STATUS_SUCCESS)
    return st;
  fill_perf<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(kForwardAlgos, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                                      convDesc->math, SIZE_MAX, requestedAlgoCount,
                                                                      returnedAlgoCount, perfResults);
  return CUDNN_STATUS_SUCCESS;
}

// The algorithms for this backward-data problem, expected fastest first.
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t filterDesc, const cudnnTensorDescriptor_t diffDesc,
    const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t gradDesc, const int requestedAlgoCount,
    int* returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t* perfResults) {
  const char* api = "cudnnGetConvolutionBackwardDataAlgorithm_v7";
  if (cudnnStatus_t st = check_perf_request(api, handle, requestedAlgoCount, returnedAlgoCount, perfResults);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, gradDesc, filterDesc, convDesc, diffDesc, &pr); st != CUDNN_STATUS_SUCCESS)
    return st;
  fill_perf<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      kBackwardDataAlgos, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, convDesc->math, SIZE_MAX, requestedAlgoCount,
      returnedAlgoCount, perfResults);
  return CUDNN_STATUS_SUCCESS;
}

// The algorithms for this backward-filter problem, expected fastest first.
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc,
                                                            const cudnnTensorDescriptor_t diffDesc,
                                                            const cudnnConvolutionDescriptor_t convDesc,
                                                            const cudnnFilterDescriptor_t gradDesc,
                                                            const int requestedAlgoCount, int* returnedAlgoCount,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perfResults) {
  const char* api = "cudnnGetConvolutionBackwardFilterAlgorithm_v7";
  if (cudnnStatus_t st = check_perf_request(api, handle, requestedAlgoCount, returnedAlgoCount, perfResults);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, srcDesc, gradDesc, convDesc, diffDesc, &pr); st != CUDNN_STATUS_SUCCESS)
    return st;
  fill_perf<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      kBackwardFilterAlgos, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, convDesc->math, SIZE_MAX, requestedAlgoCount,
      returnedAlgoCount, perfResults);
  return CUDNN_STATUS_SUCCESS;
}

// Bytes of workspace the forward algorithm needs for this problem.
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
                                                      const cudnnFilterDescriptor_t wDesc,
                                                      const cudnnConvolutionDescriptor_t convDesc,
                                                      const cudnnTensorDescriptor_t yDesc,
                                                      cudnnConvolutionFwdAlgo_t algo, size_t* sizeInBytes) {
  const char* api = "cudnnGetConvolutionForwardWorkspaceSize";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (sizeInBytes == nullptr) return bad_param(api, "sizeInBytes is NULL");
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, xDesc, wDesc, convDesc, yDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const AlgoInfo* a = nullptr;
  if (cudnnStatus_t st = lookup_algo(api, kForwardAlgos, algo, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &a);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  *sizeInBytes = a->workspace;
  return CUDNN_STATUS_SUCCESS;
}

// Bytes of workspace the backward-data algorithm needs for this problem.
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc,
                                                           const cudnnTensorDescriptor_t dyDesc,
                                                           const cudnnConvolutionDescriptor_t convDesc,
                                                           const cudnnTensorDescriptor_t dxDesc,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t* sizeInBytes) {
  const char* api = "cudnnGetConvolutionBackwardDataWorkspaceSize";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (sizeInBytes == nullptr) return bad_param(api, "sizeInBytes is NULL");
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, dxDesc, wDesc, convDesc, dyDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const AlgoInfo* a = nullptr;
  if (cudnnStatus_t st = lookup_algo(api, kBackwardDataAlgos, algo, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &a);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  *sizeInBytes = a->workspace;
  return CUDNN_STATUS_SUCCESS;
}

// Bytes of workspace the backward-filter algorithm needs for this problem.
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
                                                             const cudnnTensorDescriptor_t dyDesc,
                                                             const cudnnConvolutionDescriptor_t convDesc,
                                                             const cudnnFilterDescriptor_t gradDesc,
                                                             cudnnConvolutionBwdFilterAlgo_t algo,
                                                             size_t* sizeInBytes) {
  const char* api = "cudnnGetConvolutionBackwardFilterWorkspaceSize";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (sizeInBytes == nullptr) return bad_param(api, "sizeInBytes is NULL");
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, xDesc, gradDesc, convDesc, dyDesc, &pr); st != CUDNN_STATUS_SUCCESS)
    return st;
  const AlgoInfo* a = nullptr;
  if (cudnnStatus_t st = lookup_algo(api, kBackwardFilterAlgos, algo, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &a);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  *sizeInBytes = a->workspace;
  return CUDNN_STATUS_SUCCESS;
}

// ---- convolution: the three passes -------------------------------------------------------------

// y = alpha * conv(x, w) + beta * y.
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t xDesc,
                                      const void* x, const cudnnFilterDescriptor_t wDesc, const void* w,
                                      const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionFwdAlgo_t algo,
                                      void* workSpace, size_t workSpaceSizeInBytes, const void* beta,
                                      const cudnnTensorDescriptor_t yDesc, void* y) {
  const char* api = "cudnnConvolutionForward";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (alpha == nullptr || beta == nullptr) return bad_param(api, "alpha or beta is NULL");
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, xDesc, wDesc, convDesc, yDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const AlgoInfo* a = nullptr;
  if (cudnnStatus_t st = lookup_algo(api, kForwardAlgos, algo, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &a);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  if (cudnnStatus_t st = check_workspace(api, *a, workSpace, workSpaceSizeInBytes); st != CUDNN_STATUS_SUCCESS)
    return st;
  const Buffer data[3] = {{"x", x, bytes_of(*xDesc)}, {"w", w, bytes_of(*wDesc)}, {"y", y, bytes_of(*yDesc)}};
  return launch_pass(api, handle, Pass::Forward, pr, data, alpha, beta, workSpace, a->workspace);
}

// dx = alpha * conv^T(dy, w) + beta * dx (the gradient of conv with respect to x).
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha, const cudnnFilterDescriptor_t wDesc,
                                           const void* w, const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           const cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionBwdDataAlgo_t algo, void* workSpace,
                                           size_t workSpaceSizeInBytes, const void* beta,
                                           const cudnnTensorDescriptor_t dxDesc, void* dx) {
  const char* api = "cudnnConvolutionBackwardData";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (alpha == nullptr || beta == nullptr) return bad_param(api, "alpha or beta is NULL");
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, dxDesc, wDesc, convDesc, dyDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const AlgoInfo* a = nullptr;
  if (cudnnStatus_t st = lookup_algo(api, kBackwardDataAlgos, algo, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &a);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  if (cudnnStatus_t st = check_workspace(api, *a, workSpace, workSpaceSizeInBytes); st != CUDNN_STATUS_SUCCESS)
    return st;
  const Buffer data[3] = {{"w", w, bytes_of(*wDesc)}, {"dy", dy, bytes_of(*dyDesc)}, {"dx", dx, bytes_of(*dxDesc)}};
  return launch_pass(api, handle, Pass::BackwardData, pr, data, alpha, beta, workSpace, a->workspace);
}

// dw = alpha * corr(x, dy) + beta * dw (the gradient of conv with respect to w).
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                             const cudnnTensorDescriptor_t xDesc, const void* x,
                                             const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                             const cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                             size_t workSpaceSizeInBytes, const void* beta,
                                             const cudnnFilterDescriptor_t dwDesc, void* dw) {
  const char* api = "cudnnConvolutionBackwardFilter";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (alpha == nullptr || beta == nullptr) return bad_param(api, "alpha or beta is NULL");
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, xDesc, dwDesc, convDesc, dyDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const AlgoInfo* a = nullptr;
  if (cudnnStatus_t st = lookup_algo(api, kBackwardFilterAlgos, algo, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &a);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  if (cudnnStatus_t st = check_workspace(api, *a, workSpace, workSpaceSizeInBytes); st != CUDNN_STATUS_SUCCESS)
    return st;
  const Buffer data[3] = {{"x", x, bytes_of(*xDesc)}, {"dy", dy, bytes_of(*dyDesc)}, {"dw", dw, bytes_of(*dwDesc)}};
  return launch_pass(api, handle, Pass::BackwardFilter, pr, data, alpha, beta, workSpace, a->workspace);
}

// ---- convolution: Find (runs the operation, then reports every algorithm) ------------------------

// Runs forward into y and reports the algorithms, those that fit the given workspace first.
cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
                                                     const void* x, const cudnnFilterDescriptor_t wDesc, const void* w,
                                                     const cudnnConvolutionDescriptor_t convDesc,
                                                     const cudnnTensorDescriptor_t yDesc, void* y,
                                                     const int requestedAlgoCount, int* returnedAlgoCount,
                                                     cudnnConvolutionFwdAlgoPerf_t* perfResults, void* workSpace,
                                                     size_t workSpaceSizeInBytes) {
  const char* api = "cudnnFindConvolutionForwardAlgorithmEx";
  if (cudnnStatus_t st = check_perf_request(api, handle, requestedAlgoCount, returnedAlgoCount, perfResults);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, xDesc, wDesc, convDesc, yDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const Buffer data[3] = {{"x", x, bytes_of(*xDesc)}, {"w", w, bytes_of(*wDesc)}, {"y", y, bytes_of(*yDesc)}};
  const size_t used = workspace_used_by_find(kForwardAlgos, workSpace, workSpaceSizeInBytes);
  if (cudnnStatus_t st =
          launch_pass(api, handle, Pass::Forward, pr, data, one_for(pr.type), zero_for(pr.type), workSpace, used);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  fill_perf<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      kForwardAlgos, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, convDesc->math, workSpace == nullptr ? 0 : workSpaceSizeInBytes,
      requestedAlgoCount, returnedAlgoCount, perfResults);
  return CUDNN_STATUS_SUCCESS;
}

// Runs backward data into dx and reports the algorithms, those that fit the given workspace first.
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc,
                                                          const void* w, const cudnnTensorDescriptor_t dyDesc,
                                                          const void* dy, const cudnnConvolutionDescriptor_t convDesc,
                                                          const cudnnTensorDescriptor_t dxDesc, void* dx,
                                                          const int requestedAlgoCount, int* returnedAlgoCount,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perfResults,
                                                          void* workSpace, size_t workSpaceSizeInBytes) {
  const char* api = "cudnnFindConvolutionBackwardDataAlgorithmEx";
  if (cudnnStatus_t st = check_perf_request(api, handle, requestedAlgoCount, returnedAlgoCount, perfResults);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, dxDesc, wDesc, convDesc, dyDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const Buffer data[3] = {{"w", w, bytes_of(*wDesc)}, {"dy", dy, bytes_of(*dyDesc)}, {"dx", dx, bytes_of(*dxDesc)}};
  const size_t used = workspace_used_by_find(kBackwardDataAlgos, workSpace, workSpaceSizeInBytes);
  if (cudnnStatus_t st =
          launch_pass(api, handle, Pass::BackwardData, pr, data, one_for(pr.type), zero_for(pr.type), workSpace, used);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  fill_perf<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      kBackwardDataAlgos, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, convDesc->math,
      workSpace == nullptr ? 0 : workSpaceSizeInBytes, requestedAlgoCount, returnedAlgoCount, perfResults);
  return CUDNN_STATUS_SUCCESS;
}

// Runs backward filter into dw and reports the algorithms, those that fit the given workspace first.
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
                                                            const void* x, const cudnnTensorDescriptor_t dyDesc,
                                                            const void* y, const cudnnConvolutionDescriptor_t convDesc,
                                                            const cudnnFilterDescriptor_t dwDesc, void* dw,
                                                            const int requestedAlgoCount, int* returnedAlgoCount,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perfResults,
                                                            void* workSpace, size_t workSpaceSizeInBytes) {
  const char* api = "cudnnFindConvolutionBackwardFilterAlgorithmEx";
  if (cudnnStatus_t st = check_perf_request(api, handle, requestedAlgoCount, returnedAlgoCount, perfResults);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  ConvProblem pr;
  if (cudnnStatus_t st = conv_problem(api, xDesc, dwDesc, convDesc, dyDesc, &pr); st != CUDNN_STATUS_SUCCESS) return st;
  const Buffer data[3] = {{"x", x, bytes_of(*xDesc)}, {"dy", y, bytes_of(*dyDesc)}, {"dw", dw, bytes_of(*dwDesc)}};
  const size_t used = workspace_used_by_find(kBackwardFilterAlgos, workSpace, workSpaceSizeInBytes);
  if (cudnnStatus_t st = launch_pass(api, handle, Pass::BackwardFilter, pr, data, one_for(pr.type), zero_for(pr.type),
                                     workSpace, used);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  fill_perf<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      kBackwardFilterAlgos, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, convDesc->math,
      workSpace == nullptr ? 0 : workSpaceSizeInBytes, requestedAlgoCount, returnedAlgoCount, perfResults);
  return CUDNN_STATUS_SUCCESS;
}

// ---- cudnnAddTensor --------------------------------------------------------------------------------

namespace {

// C[n,c,h,w] = alpha * A[n',c',h',w'] + beta * C[n,c,h,w], where a dim of A that is 1 is broadcast (index 0).
template <class T>
void add_tensor(const cudnnTensorStruct& ad, const T* a, double alpha, double beta, const cudnnTensorStruct& cd, T* c) {
  for (int n = 0; n < cd.n; ++n)
    for (int ch = 0; ch < cd.c; ++ch)
      for (int h = 0; h < cd.h; ++h)
        for (int w = 0; w < cd.w; ++w) {
          const int64_t ai = offset(ad, ad.n == 1 ? 0 : n, ad.c == 1 ? 0 : ch, ad.h == 1 ? 0 : h, ad.w == 1 ? 0 : w);
          blend(c, offset(cd, n, ch, h, w), static_cast<double>(a[ai]), alpha, beta);
        }
}

}  // namespace

// C = alpha * A + beta * C, A broadcast over its dims of size 1.
cudnnStatus_t cudnnAddTensor(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t aDesc,
                             const void* A, const void* beta, const cudnnTensorDescriptor_t cDesc, void* C) {
  const char* api = "cudnnAddTensor";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (alpha == nullptr || beta == nullptr) return bad_param(api, "alpha or beta is NULL");
  if (cudnnStatus_t st = check_tensor(api, "A", aDesc); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_tensor(api, "C", cDesc); st != CUDNN_STATUS_SUCCESS) return st;
  const cudnnTensorStruct &ad = *aDesc, &cd = *cDesc;
  if (ad.type != cd.type) return bad_param(api, "A and C have different data types");
  if ((ad.n != 1 && ad.n != cd.n) || (ad.c != 1 && ad.c != cd.c) || (ad.h != 1 && ad.h != cd.h) ||
      (ad.w != 1 && ad.w != cd.w))
    return bad_param(
        api, "A " + dims_text(ad) + " does not broadcast to C " + dims_text(cd) + " (each dim must match or be 1)");
  if (!is_float_or_double(cd.type)) return not_supported(api, "data type is not emulated (float, double only)");
  const Buffer data[] = {{"A", A, bytes_of(ad)}, {"C", C, bytes_of(cd)}};
  if (cudnnStatus_t st = check_not_null(api, data); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_stream(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  const double a = scaling_factor(alpha, cd.type), b = scaling_factor(beta, cd.type);
  lucid_emu::DeviceScope device(handle->device);
  require_on_device(api, data, handle->device);
  if (cd.type == CUDNN_DATA_DOUBLE)
    add_tensor(ad, static_cast<const double*>(A), a, b, cd, static_cast<double*>(C));
  else
    add_tensor(ad, static_cast<const float*>(A), a, b, cd, static_cast<float*>(C));
  return CUDNN_STATUS_SUCCESS;
}

// ---- batch normalization ------------------------------------------------------------------------------

namespace {

// The statistics layout of a batch-norm call: which parameter element each x element uses,
// and m, the number of x values behind each statistic.
struct BatchNormShape {
  const cudnnTensorStruct* x;
  const cudnnTensorStruct* param;
  bool spatial;  // SPATIAL / SPATIAL_PERSISTENT: one statistic per channel; else one per (c, h, w)
  int64_t m;
};

// The parameter offset of x element (c, h, w): per channel (spatial) or per activation.
int64_t param_offset(const BatchNormShape& s, int c, int h, int w) {
  if (s.spatial) return offset(*s.param, 0, c, 0, 0);
  return offset(*s.param, 0, c, h, w);
}

// Number of parameter elements (statistics).
int64_t param_count(const BatchNormShape& s) { return numel(*s.param); }

// Checks mode, x/y descriptors, parameter descriptor and epsilon (shared by the three calls).
cudnnStatus_t batch_norm_shape(const char* api, cudnnBatchNormMode_t mode, const cudnnTensorStruct* x,
                               const char* y_name, const cudnnTensorStruct* y, const cudnnTensorStruct* param,
                               double epsilon, BatchNormShape* s) {
  if (mode != CUDNN_BATCHNORM_PER_ACTIVATION && mode != CUDNN_BATCHNORM_SPATIAL &&
      mode != CUDNN_BATCHNORM_SPATIAL_PERSISTENT)
    return bad_param(api, "invalid mode " + std::to_string(int(mode)));
  if (cudnnStatus_t st = check_tensor(api, "x", x); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_tensor(api, y_name, y); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_tensor(api, "scale/bias/mean/variance", param); st != CUDNN_STATUS_SUCCESS) return st;
  if (x->n != y->n || x->c != y->c || x->h != y->h || x->w != y->w)
    return bad_param(api, std::string("x ") + dims_text(*x) + " and " + y_name + " " + dims_text(*y) + " differ");
  if (x->type != y->type) return bad_param(api, std::string("x and ") + y_name + " have different data types");
  if (!is_float_or_double(x->type)) return not_supported(api, "data type is not emulated (float, double only)");
  const bool spatial = mode != CUDNN_BATCHNORM_PER_ACTIVATION;
  const int want_h = spatial ? 1 : x->h, want_w = spatial ? 1 : x->w;
  if (param->n != 1 || param->c != x->c || param->h != want_h || param->w != want_w)
    return bad_param(
        api, "parameter descriptor is " + dims_text(*param) + ", mode needs " + dims_text(1, x->c, want_h, want_w));
  if (param->type != x->type)
    return bad_param(api, "parameter data type must be double for double data and float for float data");
  if (!(epsilon >= CUDNN_BN_MIN_EPSILON))
    return bad_param(api, "epsilon " + std::to_string(epsilon) + " is below CUDNN_BN_MIN_EPSILON");
  s->x = x;
  s->param = param;
  s->spatial = spatial;
  s->m = spatial ? int64_t(x->n) * x->h * x->w : x->n;
  return CUDNN_STATUS_SUCCESS;
}

// Exactly one of a pair of optional pointers being NULL is BAD_PARAM.
cudnnStatus_t check_pair(const char* api, const char* a_name, const void* a, const char* b_name, const void* b) {
  if ((a == nullptr) != (b == nullptr))
    return bad_param(api, std::string("exactly one of ") + a_name + " and " + b_name + " is NULL");
  return CUDNN_STATUS_SUCCESS;
}

// Calls f(x_offset, param_index) for every element of x.
template <class F>
void for_each_element(const BatchNormShape& s, F&& f) {
  const cudnnTensorStruct& x = *s.x;
  for (int n = 0; n < x.n; ++n)
    for (int c = 0; c < x.c; ++c)
      for (int h = 0; h < x.h; ++h)
        for (int w = 0; w < x.w; ++w) f(n, c, h, w, param_offset(s, c, h, w));
}

// mean[i] = sum x / m and var[i] = sum (x - mean)^2 / m (biased) per statistic i.
template <class T>
void batch_statistics(const BatchNormShape& s, const T* x, std::vector<double>& mean, std::vector<double>& var) {
  mean.assign(param_count(s), 0.0);
  var.assign(param_count(s), 0.0);
  for_each_element(s, [&](int n, int c, int h, int w, int64_t p) { mean[p] += x[offset(*s.x, n, c, h, w)]; });
  for (double& v : mean) v /= double(s.m);
  for_each_element(s, [&](int n, int c, int h, int w, int64_t p) {
    const double d = x[offset(*s.x, n, c, h, w)] - mean[p];
    var[p] += d * d;
  });
  for (double& v : var) v /= double(s.m);
}

// y = alpha * (scale * (x - mean) * invstd + bias) + beta * y.
template <class T>
void normalize(const BatchNormShape& s, const cudnnTensorStruct& yd, double alpha, double beta, const T* x, T* y,
               const T* scale, const T* bias, const std::vector<double>& mean, const std::vector<double>& invstd) {
  for_each_element(s, [&](int n, int c, int h, int w, int64_t p) {
    const double xhat = (x[offset(*s.x, n, c, h, w)] - mean[p]) * invstd[p];
    blend(y, offset(yd, n, c, h, w), double(scale[p]) * xhat + double(bias[p]), alpha, beta);
  });
}

// Training forward: batch statistics, normalize, update running stats, save mean and 1/sqrt(var + eps).
template <class T>
void batch_norm_training(const BatchNormShape& s, const cudnnTensorStruct& yd, double alpha, double beta, const T* x,
                         T* y, const T* scale, const T* bias, double factor, T* running_mean, T* running_var,
                         double eps, T* save_mean, T* save_invstd) {
  std::vector<double> mean, var;
  batch_statistics(s, x, mean, var);
  std::vector<double> invstd(var.size());
  for (size_t i = 0; i < var.size(); ++i) invstd[i] = 1.0 / std::sqrt(var[i] + eps);
  normalize(s, yd, alpha, beta, x, y, scale, bias, mean, invstd);
  for (size_t i = 0; i < var.size(); ++i) {
    const int64_t p = static_cast<int64_t>(i);
    if (running_mean != nullptr) {
      // Unbiased variance m/(m-1) * var; m == 1 gives 0/0 = NaN, as the estimator is undefined.
      const double unbiased = var[i] * double(s.m) / double(s.m - 1);
      running_mean[p] = static_cast<T>(factor * mean[i] + (1.0 - factor) * double(running_mean[p]));
      running_var[p] = static_cast<T>(factor * unbiased + (1.0 - factor) * double(running_var[p]));
    }
    if (save_mean != nullptr) {
      save_mean[p] = static_cast<T>(mean[i]);
      save_invstd[p] = static_cast<T>(invstd[i]);
    }
  }
}

// Inference forward: y = alpha * (scale * (x - estMean) / sqrt(estVar + eps) + bias) + beta * y.
template <class T>
void batch_norm_inference(const BatchNormShape& s, const cudnnTensorStruct& yd, double alpha, double beta, const T* x,
                          T* y, const T* scale, const T* bias, const T* est_mean, const T* est_var, double eps) {
  std::vector<double> mean(param_count(s)), invstd(param_count(s));
  for (int64_t p = 0; p < param_count(s); ++p) {
    mean[p] = est_mean[p];
    invstd[p] = 1.0 / std::sqrt(double(est_var[p]) + eps);
  }
  normalize(s, yd, alpha, beta, x, y, scale, bias, mean, invstd);
}

// Backward with batch statistics: with xhat = (x - mean) * invstd,
// dBias = sum dy, dScale = sum dy * xhat, dx = scale * invstd / m * (m * dy - dBias - xhat * dScale).
template <class T>
void batch_norm_backward(const BatchNormShape& s, const cudnnTensorStruct& dyd, const cudnnTensorStruct& dxd,
                         double alpha_data, double beta_data, double alpha_param, double beta_param, const T* x,
                         const T* dy, T* dx, const T* scale, T* dscale, T* dbias, double eps, const T* saved_mean,
                         const T* saved_invstd) {
  const int64_t count = param_count(s);
  std::vector<double> mean(count), invstd(count);
  if (saved_mean != nullptr) {
    for (int64_t p = 0; p < count; ++p) mean[p] = saved_mean[p], invstd[p] = saved_invstd[p];
  } else {
    std::vector<double> var;
    batch_statistics(s, x, mean, var);
    for (int64_t p = 0; p < count; ++p) invstd[p] = 1.0 / std::sqrt(var[p] + eps);
  }
  std::vector<double> sum_dy(count, 0.0), sum_dy_xhat(count, 0.0);
  for_each_element(s, [&](int n, int c, int h, int w, int64_t p) {
    const double g = dy[offset(dyd, n, c, h, w)];
    const double xhat = (x[offset(*s.x, n, c, h, w)] - mean[p]) * invstd[p];
    sum_dy[p] += g;
    sum_dy_xhat[p] += g * xhat;
  });
  const double m = double(s.m);
  for_each_element(s, [&](int n, int c, int h, int w, int64_t p) {
    const double g = dy[offset(dyd, n, c, h, w)];
    const double xhat = (x[offset(*s.x, n, c, h, w)] - mean[p]) * invstd[p];
    const double grad = double(scale[p]) * invstd[p] / m * (m * g - sum_dy[p] - xhat * sum_dy_xhat[p]);
    blend(dx, offset(dxd, n, c, h, w), grad, alpha_data, beta_data);
  });
  for (int64_t p = 0; p < count; ++p) {
    blend(dscale, p, sum_dy_xhat[p], alpha_param, beta_param);
    blend(dbias, p, sum_dy[p], alpha_param, beta_param);
  }
}

// Casts a device pointer to T* (the data type was checked).
template <class T>
T* as(void* p) {
  return static_cast<T*>(p);
}
template <class T>
const T* as(const void* p) {
  return static_cast<const T*>(p);
}

}  // namespace

// y = BN(x) with batch statistics; updates running mean/variance and saves mean and inverse std.
cudnnStatus_t cudnnBatchNormalizationForwardTraining(cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void* alpha,
                                                     const void* beta, const cudnnTensorDescriptor_t xDesc,
                                                     const void* x, const cudnnTensorDescriptor_t yDesc, void* y,
                                                     const cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc,
                                                     const void* bnScale, const void* bnBias,
                                                     double exponentialAverageFactor, void* resultRunningMean,
                                                     void* resultRunningVariance, double epsilon, void* resultSaveMean,
                                                     void* resultSaveInvVariance) {
  const char* api = "cudnnBatchNormalizationForwardTraining";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (alpha == nullptr || beta == nullptr) return bad_param(api, "alpha or beta is NULL");
  BatchNormShape s;
  if (cudnnStatus_t st = batch_norm_shape(api, mode, xDesc, "y", yDesc, bnScaleBiasMeanVarDesc, epsilon, &s);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  const size_t data_bytes = bytes_of(*xDesc), param_bytes = bytes_of(*bnScaleBiasMeanVarDesc);
  const Buffer required[] = {
      {"x", x, data_bytes}, {"y", y, data_bytes}, {"bnScale", bnScale, param_bytes}, {"bnBias", bnBias, param_bytes}};
  if (cudnnStatus_t st = check_not_null(api, required); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st =
          check_pair(api, "resultRunningMean", resultRunningMean, "resultRunningVariance", resultRunningVariance);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  if (cudnnStatus_t st =
          check_pair(api, "resultSaveMean", resultSaveMean, "resultSaveInvVariance", resultSaveInvVariance);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  if (cudnnStatus_t st = check_stream(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  const Buffer optional[] = {{"resultRunningMean", resultRunningMean, param_bytes},
                             {"resultRunningVariance", resultRunningVariance, param_bytes},
                             {"resultSaveMean", resultSaveMean, param_bytes},
                             {"resultSaveInvVariance", resultSaveInvVariance, param_bytes}};
  const double a = scaling_factor(alpha, xDesc->type), b = scaling_factor(beta, xDesc->type);
  lucid_emu::DeviceScope device(handle->device);
  require_on_device(api, required, handle->device);
  require_on_device(api, optional, handle->device);
  if (xDesc->type == CUDNN_DATA_DOUBLE) {
    using T = double;
    batch_norm_training<T>(s, *yDesc, a, b, as<T>(x), as<T>(y), as<T>(bnScale), as<T>(bnBias), exponentialAverageFactor,
                           as<T>(resultRunningMean), as<T>(resultRunningVariance), epsilon, as<T>(resultSaveMean),
                           as<T>(resultSaveInvVariance));
  } else {
    using T = float;
    batch_norm_training<T>(s, *yDesc, a, b, as<T>(x), as<T>(y), as<T>(bnScale), as<T>(bnBias), exponentialAverageFactor,
                           as<T>(resultRunningMean), as<T>(resultRunningVariance), epsilon, as<T>(resultSaveMean),
                           as<T>(resultSaveInvVariance));
  }
  return CUDNN_STATUS_SUCCESS;
}

// y = BN(x) with the given (estimated) mean and variance.
cudnnStatus_t cudnnBatchNormalizationForwardInference(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void* alpha, const void* beta,
    const cudnnTensorDescriptor_t xDesc, const void* x, const cudnnTensorDescriptor_t yDesc, void* y,
    const cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc, const void* bnScale, const void* bnBias,
    const void* estimatedMean, const void* estimatedVariance, double epsilon) {
  const char* api = "cudnnBatchNormalizationForwardInference";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (alpha == nullptr || beta == nullptr) return bad_param(api, "alpha or beta is NULL");
  BatchNormShape s;
  if (cudnnStatus_t st = batch_norm_shape(api, mode, xDesc, "y", yDesc, bnScaleBiasMeanVarDesc, epsilon, &s);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  const size_t data_bytes = bytes_of(*xDesc), param_bytes = bytes_of(*bnScaleBiasMeanVarDesc);
  const Buffer required[] = {{"x", x, data_bytes},
                             {"y", y, data_bytes},
                             {"bnScale", bnScale, param_bytes},
                             {"bnBias", bnBias, param_bytes},
                             {"estimatedMean", estimatedMean, param_bytes},
                             {"estimatedVariance", estimatedVariance, param_bytes}};
  if (cudnnStatus_t st = check_not_null(api, required); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_stream(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  const double a = scaling_factor(alpha, xDesc->type), b = scaling_factor(beta, xDesc->type);
  lucid_emu::DeviceScope device(handle->device);
  require_on_device(api, required, handle->device);
  if (xDesc->type == CUDNN_DATA_DOUBLE) {
    using T = double;
    batch_norm_inference<T>(s, *yDesc, a, b, as<T>(x), as<T>(y), as<T>(bnScale), as<T>(bnBias), as<T>(estimatedMean),
                            as<T>(estimatedVariance), epsilon);
  } else {
    using T = float;
    batch_norm_inference<T>(s, *yDesc, a, b, as<T>(x), as<T>(y), as<T>(bnScale), as<T>(bnBias), as<T>(estimatedMean),
                            as<T>(estimatedVariance), epsilon);
  }
  return CUDNN_STATUS_SUCCESS;
}

// dx, dScale, dBias of y = BN(x) with batch statistics (saved by the forward pass, or recomputed).
cudnnStatus_t cudnnBatchNormalizationBackward(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void* alphaDataDiff, const void* betaDataDiff,
    const void* alphaParamDiff, const void* betaParamDiff, const cudnnTensorDescriptor_t xDesc, const void* x,
    const cudnnTensorDescriptor_t dyDesc, const void* dy, const cudnnTensorDescriptor_t dxDesc, void* dx,
    const cudnnTensorDescriptor_t dBnScaleBiasDesc, const void* bnScale, void* dBnScaleResult, void* dBnBiasResult,
    double epsilon, const void* savedMean, const void* savedInvVariance) {
  const char* api = "cudnnBatchNormalizationBackward";
  if (cudnnStatus_t st = check_handle(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  if (alphaDataDiff == nullptr || betaDataDiff == nullptr || alphaParamDiff == nullptr || betaParamDiff == nullptr)
    return bad_param(api, "a scaling factor (alphaDataDiff, betaDataDiff, alphaParamDiff, betaParamDiff) is NULL");
  BatchNormShape s;
  if (cudnnStatus_t st = batch_norm_shape(api, mode, xDesc, "dy", dyDesc, dBnScaleBiasDesc, epsilon, &s);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  if (cudnnStatus_t st = check_tensor(api, "dx", dxDesc); st != CUDNN_STATUS_SUCCESS) return st;
  if (dxDesc->n != xDesc->n || dxDesc->c != xDesc->c || dxDesc->h != xDesc->h || dxDesc->w != xDesc->w)
    return bad_param(api, "x " + dims_text(*xDesc) + " and dx " + dims_text(*dxDesc) + " differ");
  if (dxDesc->type != xDesc->type) return bad_param(api, "x and dx have different data types");
  const size_t data_bytes = bytes_of(*xDesc), param_bytes = bytes_of(*dBnScaleBiasDesc);
  const Buffer required[] = {{"x", x, data_bytes},
                             {"dy", dy, data_bytes},
                             {"dx", dx, data_bytes},
                             {"bnScale", bnScale, param_bytes},
                             {"dBnScaleResult", dBnScaleResult, param_bytes},
                             {"dBnBiasResult", dBnBiasResult, param_bytes}};
  if (cudnnStatus_t st = check_not_null(api, required); st != CUDNN_STATUS_SUCCESS) return st;
  if (cudnnStatus_t st = check_pair(api, "savedMean", savedMean, "savedInvVariance", savedInvVariance);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  if (cudnnStatus_t st = check_stream(api, handle); st != CUDNN_STATUS_SUCCESS) return st;
  const Buffer optional[] = {{"savedMean", savedMean, param_bytes},
                             {"savedInvVariance", savedInvVariance, param_bytes}};
  const cudnnDataType_t t = xDesc->type;
  const double ad = scaling_factor(alphaDataDiff, t), bd = scaling_factor(betaDataDiff, t);
  const double ap = scaling_factor(alphaParamDiff, t), bp = scaling_factor(betaParamDiff, t);
  lucid_emu::DeviceScope device(handle->device);
  require_on_device(api, required, handle->device);
  require_on_device(api, optional, handle->device);
  if (t == CUDNN_DATA_DOUBLE) {
    using T = double;
    batch_norm_backward<T>(s, *dyDesc, *dxDesc, ad, bd, ap, bp, as<T>(x), as<T>(dy), as<T>(dx), as<T>(bnScale),
                           as<T>(dBnScaleResult), as<T>(dBnBiasResult), epsilon, as<T>(savedMean),
                           as<T>(savedInvVariance));
  } else {
    using T = float;
    batch_norm_backward<T>(s, *dyDesc, *dxDesc, ad, bd, ap, bp, as<T>(x), as<T>(dy), as<T>(dx), as<T>(bnScale),
                           as<T>(dBnScaleResult), as<T>(dBnBiasResult), epsilon, as<T>(savedMean),
                           as<T>(savedInvVariance));
  }
  return CUDNN_STATUS_SUCCESS;
}
