// Declarations shared by the addon's files: the communicator table, MPI error -> JS exception,
// argument readers, and the request registry that keeps JS buffers alive until MPI is done with them.
#pragma once
#include <mpi.h>
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lasp_mpi {

// ---- args.cc: argument readers (throw a JS TypeError on a bad argument) ----
Napi::Float32Array F32Arg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::vector<int> IntsArg(const Napi::CallbackInfo& info, size_t i, const char* what);
int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what);
double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what);
// element-count check: sum/extent of counts+displs must fit in `len` elements
void CheckExtent(Napi::Env env, const std::vector<int>& counts, const std::vector<int>& displs, size_t len,
                 const char* what);
std::vector<int> Displs(const std::vector<int>& counts);

// ---- env.cc: init state, communicator table, errors ----
void RequireInit(Napi::Env env);
MPI_Comm CommArg(const Napi::CallbackInfo& info, size_t i);
// throws a JS Error "MPI_<what> failed: <MPI error string>" when rc != MPI_SUCCESS
void Check(Napi::Env env, int rc, const char* what);
std::string ErrorString(int rc);
void InitEnv(Napi::Env env, Napi::Object exports);

// ---- executor.cc: one thread per communicator running queued blocking collectives in order ----
struct Done {
  std::atomic<bool> finished{false};
  int rc = MPI_SUCCESS;  // written before `finished` is released
};
std::shared_ptr<Done> Enqueue(MPI_Comm comm, std::function<int()> run);
void StopExecutors();  // joins the threads; only with nothing queued (finalize checks)

// ---- requests.cc: pending requests ----
struct Pending {
  std::vector<MPI_Request> reqs;
  std::shared_ptr<Done> done;                        // a queued collective instead of MPI requests
  std::vector<Napi::Reference<Napi::Value>> keep;  // buffers MPI reads or writes until completion
  int expectRecv = -1;                               // irecv: elements expected (checked on completion)
  bool waiting = false;                              // a wait worker owns the requests now
};
// registers the requests with the buffers to keep alive; returns the handle id given to JS
double Register(Napi::Env env, std::vector<MPI_Request> reqs, std::vector<Napi::Value> keep, int expectRecv = -1);
double RegisterDone(Napi::Env env, std::shared_ptr<Done> done, std::vector<Napi::Value> keep);
size_t PendingRequests();
void InitRequests(Napi::Env env, Napi::Object exports);

// ---- op_args.cc: the checked arguments of each collective, shared by blocking and non-blocking ----
struct VArgs {  // allgatherv / reduce_scatter / allreduce: one send, one recv, per-rank counts
  MPI_Comm comm;
  int rank;
  Napi::Float32Array send, recv;
  std::vector<int> counts, displs;
};
VArgs AllgathervArgs(const Napi::CallbackInfo& info);      // (comm, send, recv, counts)
VArgs ReduceScatterArgs(const Napi::CallbackInfo& info);   // (comm, send, recv, counts)
VArgs AllreduceArgs(const Napi::CallbackInfo& info);       // (comm, send, recv); counts = {send.length}
struct AllToAllArgs {
  MPI_Comm comm;
  Napi::Float32Array send, recv;
  std::vector<int> sc, sd, rc, rd;
};
AllToAllArgs AlltoallvArgs(const Napi::CallbackInfo& info);  // (comm, send, sendCounts, recv, recvCounts)

// ---- nonblocking.cc / blocking.cc ----
void InitNonBlocking(Napi::Env env, Napi::Object exports);
void InitBlocking(Napi::Env env, Napi::Object exports);
void InitQueued(Napi::Env env, Napi::Object exports);

}  // namespace lasp_mpi
