// Non-blocking collectives and point-to-point on Float32Array buffers, used in place: each returns a
// request id (requests.cc) that keeps its buffers referenced until the operation completes.
// Displacements are implied: parts lie back to back in rank order, as the Communicator contract says.
#include "lasp_mpi.h"

namespace lasp_mpi {

static Napi::Value Done(Napi::Env env, MPI_Request r, const Napi::Float32Array& a, const Napi::Float32Array& b) {
  return Napi::Number::New(env, Register(env, {r}, {a, b}));
}

// iallgatherv(comm, send, recv, counts) -> request
static Napi::Value Iallgatherv(const Napi::CallbackInfo& info) {
  VArgs a = AllgathervArgs(info);
  MPI_Request r;
  Check(info.Env(),
        MPI_Iallgatherv(a.send.Data(), a.counts[a.rank], MPI_FLOAT, a.recv.Data(), a.counts.data(), a.displs.data(),
                        MPI_FLOAT, a.comm, &r),
        "Iallgatherv");
  return Done(info.Env(), r, a.send, a.recv);
}

// ireduceScatter(comm, send, recv, counts) -> request; recv = sum over ranks of part `rank`
static Napi::Value IreduceScatter(const Napi::CallbackInfo& info) {
  VArgs a = ReduceScatterArgs(info);
  MPI_Request r;
  Check(info.Env(), MPI_Ireduce_scatter(a.send.Data(), a.recv.Data(), a.counts.data(), MPI_FLOAT, MPI_SUM, a.comm, &r),
        "Ireduce_scatter");
  return Done(info.Env(), r, a.send, a.recv);
}

// iallreduce(comm, send, recv) -> request; sums send.length elements
static Napi::Value Iallreduce(const Napi::CallbackInfo& info) {
  VArgs a = AllreduceArgs(info);
  MPI_Request r;
  Check(info.Env(), MPI_Iallreduce(a.send.Data(), a.recv.Data(), a.counts[0], MPI_FLOAT, MPI_SUM, a.comm, &r),
        "Iallreduce");
  return Done(info.Env(), r, a.send, a.recv);
}

// ialltoallv(comm, send, sendCounts, recv, recvCounts) -> request
static Napi::Value Ialltoallv(const Napi::CallbackInfo& info) {
  AllToAllArgs a = AlltoallvArgs(info);
  MPI_Request r;
  Check(info.Env(),
        MPI_Ialltoallv(a.send.Data(), a.sc.data(), a.sd.data(), MPI_FLOAT, a.recv.Data(), a.rc.data(), a.rd.data(),
                       MPI_FLOAT, a.comm, &r),
        "Ialltoallv");
  return Done(info.Env(), r, a.send, a.recv);
}

// isend(comm, buf, dest, tag) -> request
static Napi::Value Isend(const Napi::CallbackInfo& info) {
  MPI_Comm c = CommArg(info, 0);
  auto buf = F32Arg(info, 1, "buf");
  int dest = IntArg(info, 2, "dest"), tag = IntArg(info, 3, "tag");
  MPI_Request r;
  Check(info.Env(), MPI_Isend(buf.Data(), static_cast<int>(buf.ElementLength()), MPI_FLOAT, dest, tag, c, &r),
        "Isend");
  return Napi::Number::New(info.Env(), Register(info.Env(), {r}, {buf}));
}

// irecv(comm, buf, source, tag) -> request; completing with fewer than buf.length elements is an error
static Napi::Value Irecv(const Napi::CallbackInfo& info) {
  MPI_Comm c = CommArg(info, 0);
  auto buf = F32Arg(info, 1, "buf");
  int src = IntArg(info, 2, "source"), tag = IntArg(info, 3, "tag");
  int n = static_cast<int>(buf.ElementLength());
  MPI_Request r;
  Check(info.Env(), MPI_Irecv(buf.Data(), n, MPI_FLOAT, src, tag, c, &r), "Irecv");
  return Napi::Number::New(info.Env(), Register(info.Env(), {r}, {buf}, n));
}

// ibarrier(comm) -> request
static Napi::Value Ibarrier(const Napi::CallbackInfo& info) {
  MPI_Comm c = CommArg(info, 0);
  MPI_Request r;
  Check(info.Env(), MPI_Ibarrier(c, &r), "Ibarrier");
  return Napi::Number::New(info.Env(), Register(info.Env(), {r}, {}));
}

void InitNonBlocking(Napi::Env env, Napi::Object exports) {
  exports.Set("iallgatherv", Napi::Function::New(env, Iallgatherv, "iallgatherv"));
  exports.Set("ireduceScatter", Napi::Function::New(env, IreduceScatter, "ireduceScatter"));
  exports.Set("iallreduce", Napi::Function::New(env, Iallreduce, "iallreduce"));
  exports.Set("ialltoallv", Napi::Function::New(env, Ialltoallv, "ialltoallv"));
  exports.Set("isend", Napi::Function::New(env, Isend, "isend"));
  exports.Set("irecv", Napi::Function::New(env, Irecv, "irecv"));
  exports.Set("ibarrier", Napi::Function::New(env, Ibarrier, "ibarrier"));
}

}  // namespace lasp_mpi
