// Blocking collectives on Float32Array buffers (same arguments as the non-blocking ones, no request):
// they hold the JS thread until done, so they suit setup and tests, not the training loop's overlap.
#include "lasp_mpi.h"

namespace lasp_mpi {

// allgatherv(comm, send, recv, counts)
static Napi::Value Allgatherv(const Napi::CallbackInfo& info) {
  VArgs a = AllgathervArgs(info);
  Check(info.Env(),
        MPI_Allgatherv(a.send.Data(), a.counts[a.rank], MPI_FLOAT, a.recv.Data(), a.counts.data(), a.displs.data(),
                       MPI_FLOAT, a.comm),
        "Allgatherv");
  return info.Env().Undefined();
}

// reduceScatter(comm, send, recv, counts)
static Napi::Value ReduceScatter(const Napi::CallbackInfo& info) {
  VArgs a = ReduceScatterArgs(info);
  Check(info.Env(), MPI_Reduce_scatter(a.send.Data(), a.recv.Data(), a.counts.data(), MPI_FLOAT, MPI_SUM, a.comm),
        "Reduce_scatter");
  return info.Env().Undefined();
}

// allreduce(comm, send, recv)
static Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  VArgs a = AllreduceArgs(info);
  Check(info.Env(), MPI_Allreduce(a.send.Data(), a.recv.Data(), a.counts[0], MPI_FLOAT, MPI_SUM, a.comm),
        "Allreduce");
  return info.Env().Undefined();
}

// alltoallv(comm, send, sendCounts, recv, recvCounts)
static Napi::Value Alltoallv(const Napi::CallbackInfo& info) {
  AllToAllArgs a = AlltoallvArgs(info);
  Check(info.Env(),
        MPI_Alltoallv(a.send.Data(), a.sc.data(), a.sd.data(), MPI_FLOAT, a.recv.Data(), a.rc.data(), a.rd.data(),
                      MPI_FLOAT, a.comm),
        "Alltoallv");
  return info.Env().Undefined();
}

// barrier(comm)
static Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Check(info.Env(), MPI_Barrier(CommArg(info, 0)), "Barrier");
  return info.Env().Undefined();
}

void InitBlocking(Napi::Env env, Napi::Object exports) {
  exports.Set("allgatherv", Napi::Function::New(env, Allgatherv, "allgatherv"));
  exports.Set("reduceScatter", Napi::Function::New(env, ReduceScatter, "reduceScatter"));
  exports.Set("allreduce", Napi::Function::New(env, Allreduce, "allreduce"));
  exports.Set("alltoallv", Napi::Function::New(env, Alltoallv, "alltoallv"));
  exports.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));
}

}  // namespace lasp_mpi
