// Checked arguments of the collectives, shared by the blocking and non-blocking entry points: counts
// must match the communicator size and every part must lie inside its buffer before MPI touches it.
#include "lasp_mpi.h"

namespace lasp_mpi {

static int Size(Napi::Env env, MPI_Comm c) {
  int s = 0;
  Check(env, MPI_Comm_size(c, &s), "Comm_size");
  return s;
}
static int Rank(Napi::Env env, MPI_Comm c) {
  int r = 0;
  Check(env, MPI_Comm_rank(c, &r), "Comm_rank");
  return r;
}
static void CheckParts(Napi::Env env, const std::vector<int>& counts, int size, const char* what) {
  if (static_cast<int>(counts.size()) != size) {
    throw Napi::RangeError::New(env, std::string(what) + ": " + std::to_string(counts.size()) +
                                         " counts for a communicator of " + std::to_string(size) + " ranks");
  }
}
static void CheckLen(Napi::Env env, size_t have, long long need, const char* what) {
  if (static_cast<long long>(have) < need) {
    throw Napi::RangeError::New(env, std::string(what) + ": buffer has " + std::to_string(have) +
                                         " elements, needs " + std::to_string(need));
  }
}

static VArgs Base(const Napi::CallbackInfo& info) {
  MPI_Comm c = CommArg(info, 0);
  return VArgs{c, Rank(info.Env(), c), F32Arg(info, 1, "send"), F32Arg(info, 2, "recv"), {}, {}};
}

VArgs AllgathervArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  VArgs a = Base(info);
  a.counts = IntsArg(info, 3, "counts");
  CheckParts(env, a.counts, Size(env, a.comm), "allgatherv counts");
  CheckLen(env, a.send.ElementLength(), a.counts[a.rank], "allgatherv send");
  a.displs = Displs(a.counts);
  CheckExtent(env, a.counts, a.displs, a.recv.ElementLength(), "allgatherv recv");
  return a;
}

VArgs ReduceScatterArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  VArgs a = Base(info);
  a.counts = IntsArg(info, 3, "counts");
  CheckParts(env, a.counts, Size(env, a.comm), "reduceScatter counts");
  a.displs = Displs(a.counts);
  CheckExtent(env, a.counts, a.displs, a.send.ElementLength(), "reduceScatter send");
  CheckLen(env, a.recv.ElementLength(), a.counts[a.rank], "reduceScatter recv");
  return a;
}

VArgs AllreduceArgs(const Napi::CallbackInfo& info) {
  VArgs a = Base(info);
  a.counts = {static_cast<int>(a.send.ElementLength())};
  CheckLen(info.Env(), a.recv.ElementLength(), a.counts[0], "allreduce recv");
  return a;
}

AllToAllArgs AlltoallvArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm c = CommArg(info, 0);
  AllToAllArgs a{c, F32Arg(info, 1, "send"), F32Arg(info, 3, "recv"), IntsArg(info, 2, "sendCounts"), {},
                 IntsArg(info, 4, "recvCounts"), {}};
  int size = Size(env, c);
  CheckParts(env, a.sc, size, "alltoallv sendCounts");
  CheckParts(env, a.rc, size, "alltoallv recvCounts");
  a.sd = Displs(a.sc);
  a.rd = Displs(a.rc);
  CheckExtent(env, a.sc, a.sd, a.send.ElementLength(), "alltoallv send");
  CheckExtent(env, a.rc, a.rd, a.recv.ElementLength(), "alltoallv recv");
  return a;
}

}  // namespace lasp_mpi
