// Entry point of the lasp_mpi addon: a thin N-API binding over Open MPI for the MPI Communicator
// (runtime/comm/mpi). Each file registers its own functions on the exports object.
#include "lasp_mpi.h"

namespace lasp_mpi {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitEnv(env, exports);
  InitRequests(env, exports);
  InitNonBlocking(env, exports);
  InitBlocking(env, exports);
  InitQueued(env, exports);
  return exports;
}

}  // namespace lasp_mpi

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return lasp_mpi::Init(env, exports); }

NODE_API_MODULE(lasp_mpi, InitAddon)
