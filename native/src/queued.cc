// Queued collectives: the blocking MPI call runs on the communicator's executor thread (executor.cc);
// the caller gets a request id at once, its buffers kept referenced until the call returns.
#include "lasp_mpi.h"

namespace lasp_mpi {

static Napi::Value Queue(Napi::Env env, MPI_Comm comm, std::function<int()> run, std::vector<Napi::Value> keep) {
  return Napi::Number::New(env, RegisterDone(env, Enqueue(comm, std::move(run)), std::move(keep)));
}

// qallgatherv(comm, send, recv, counts) -> request
static Napi::Value Qallgatherv(const Napi::CallbackInfo& info) {
  VArgs a = AllgathervArgs(info);
  float* s = a.send.Data();
  float* r = a.recv.Data();
  return Queue(
      info.Env(), a.comm,
      [s, r, a = a.counts, d = a.displs, rank = a.rank, c = a.comm]() mutable {
        return MPI_Allgatherv(s, a[rank], MPI_FLOAT, r, a.data(), d.data(), MPI_FLOAT, c);
      },
      {a.send, a.recv});
}

// qreduceScatter(comm, send, recv, counts) -> request
static Napi::Value QreduceScatter(const Napi::CallbackInfo& info) {
  VArgs a = ReduceScatterArgs(info);
  float* s = a.send.Data();
  float* r = a.recv.Data();
  return Queue(
      info.Env(), a.comm,
      [s, r, n = a.counts, c = a.comm]() mutable { return MPI_Reduce_scatter(s, r, n.data(), MPI_FLOAT, MPI_SUM, c); },
      {a.send, a.recv});
}

// qallreduce(comm, send, recv) -> request
static Napi::Value Qallreduce(const Napi::CallbackInfo& info) {
  VArgs a = AllreduceArgs(info);
  float* s = a.send.Data();
  float* r = a.recv.Data();
  int n = a.counts[0];
  return Queue(
      info.Env(), a.comm, [s, r, n, c = a.comm]() { return MPI_Allreduce(s, r, n, MPI_FLOAT, MPI_SUM, c); },
      {a.send, a.recv});
}

// qalltoallv(comm, send, sendCounts, recv, recvCounts) -> request
static Napi::Value Qalltoallv(const Napi::CallbackInfo& info) {
  AllToAllArgs a = AlltoallvArgs(info);
  float* s = a.send.Data();
  float* r = a.recv.Data();
  return Queue(
      info.Env(), a.comm,
      [s, r, sc = a.sc, sd = a.sd, rc = a.rc, rd = a.rd, c = a.comm]() mutable {
        return MPI_Alltoallv(s, sc.data(), sd.data(), MPI_FLOAT, r, rc.data(), rd.data(), MPI_FLOAT, c);
      },
      {a.send, a.recv});
}

// qbarrier(comm) -> request
static Napi::Value Qbarrier(const Napi::CallbackInfo& info) {
  MPI_Comm c = CommArg(info, 0);
  return Queue(info.Env(), c, [c]() { return MPI_Barrier(c); }, {});
}

void InitQueued(Napi::Env env, Napi::Object exports) {
  exports.Set("qallgatherv", Napi::Function::New(env, Qallgatherv, "qallgatherv"));
  exports.Set("qreduceScatter", Napi::Function::New(env, QreduceScatter, "qreduceScatter"));
  exports.Set("qallreduce", Napi::Function::New(env, Qallreduce, "qallreduce"));
  exports.Set("qalltoallv", Napi::Function::New(env, Qalltoallv, "qalltoallv"));
  exports.Set("qbarrier", Napi::Function::New(env, Qbarrier, "qbarrier"));
}

}  // namespace lasp_mpi
