#include <lucid/kernels/thread_pool.h>
