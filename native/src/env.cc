// MPI lifetime and communicators: init (MPI_THREAD_MULTIPLE, errors returned, not fatal), finalize,
// abort, rank/size, and MPI_Comm_split into a table of communicators that JS refers to by small ids.
#include <dlfcn.h>

#include <cstdlib>

#include "lasp_mpi.h"

namespace lasp_mpi {

static std::vector<MPI_Comm> g_comms;  // id -> communicator; id 0 = MPI_COMM_WORLD

std::string ErrorString(int rc) {
  char buf[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, buf, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(rc);
  return std::string(buf, len);
}

void Check(Napi::Env env, int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Napi::Error::New(env, std::string("MPI_") + what + " failed: " + ErrorString(rc));
}

static bool Initialized() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

void RequireInit(Napi::Env env) {
  if (!Initialized()) throw Napi::Error::New(env, "MPI is not initialized (call init() first) or already finalized");
}

MPI_Comm CommArg(const Napi::CallbackInfo& info, size_t i) {
  RequireInit(info.Env());
  int id = IntArg(info, i, "comm");
  if (id < 0 || static_cast<size_t>(id) >= g_comms.size() || g_comms[id] == MPI_COMM_NULL) {
    throw Napi::RangeError::New(info.Env(), "comm: no communicator with id " + std::to_string(id));
  }
  return g_comms[id];
}

// An addon is dlopen'ed RTLD_LOCAL; Open MPI's plugins need libmpi's symbols global, so re-open
// the already loaded libmpi with RTLD_GLOBAL before MPI_Init loads them.
static void PromoteLibmpi() {
  Dl_info dl;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &dl) && dl.dli_fname != nullptr) {
    dlopen(dl.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  }
}

static Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int init = 0, fin = 0, provided = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (fin) throw Napi::Error::New(env, "MPI was already finalized in this process");
  if (!init) {
    PromoteLibmpi();
    Check(env, MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    g_comms.assign(1, MPI_COMM_WORLD);
  }
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_MULTIPLE) {
    throw Napi::Error::New(env, "MPI_Init_thread granted thread level " + std::to_string(provided) +
                                    ", the binding needs MPI_THREAD_MULTIPLE (" +
                                    std::to_string(MPI_THREAD_MULTIPLE) + ")");
  }
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", rank);
  out.Set("size", size);
  out.Set("threadLevel", provided);
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  out.Set("host", std::string(name, len));
  return out;
}

static Napi::Value Finalize(const Napi::CallbackInfo& info) {
  if (!Initialized()) return info.Env().Undefined();
  // pollers may still be inside MPI_Testall on worker threads: finalizing under them would crash
  if (PendingRequests() > 0) {
    throw Napi::Error::New(info.Env(), "MPI_Finalize with " + std::to_string(PendingRequests()) +
                                           " requests still in flight: wait for every started operation first");
  }
  StopExecutors();
  for (size_t k = 1; k < g_comms.size(); k++) {
    if (g_comms[k] != MPI_COMM_NULL) MPI_Comm_free(&g_comms[k]);
  }
  g_comms.clear();
  Check(info.Env(), MPI_Finalize(), "Finalize");
  return info.Env().Undefined();
}

// Kills every rank of the job (mpirun reports the rank and code); never returns.
static Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 ? IntArg(info, 0, "code") : 1;
  if (Initialized()) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

static Napi::Value State(const Napi::CallbackInfo& info) {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return Napi::String::New(info.Env(), fin ? "finalized" : init ? "initialized" : "uninitialized");
}

static Napi::Value CommRank(const Napi::CallbackInfo& info) {
  int r = 0;
  Check(info.Env(), MPI_Comm_rank(CommArg(info, 0), &r), "Comm_rank");
  return Napi::Number::New(info.Env(), r);
}

static Napi::Value CommSize(const Napi::CallbackInfo& info) {
  int s = 0;
  Check(info.Env(), MPI_Comm_size(CommArg(info, 0), &s), "Comm_size");
  return Napi::Number::New(info.Env(), s);
}

// commSplit(comm, color, key) -> id of the new communicator (collective over comm)
static Napi::Value CommSplit(const Napi::CallbackInfo& info) {
  MPI_Comm parent = CommArg(info, 0);
  int color = IntArg(info, 1, "color"), key = IntArg(info, 2, "key");
  MPI_Comm out = MPI_COMM_NULL;
  Check(info.Env(), MPI_Comm_split(parent, color, key, &out), "Comm_split");
  MPI_Comm_set_errhandler(out, MPI_ERRORS_RETURN);
  g_comms.push_back(out);
  return Napi::Number::New(info.Env(), static_cast<double>(g_comms.size() - 1));
}

static Napi::Value Wtime(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), MPI_Wtime()); }

void InitEnv(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  exports.Set("state", Napi::Function::New(env, State, "state"));
  exports.Set("commRank", Napi::Function::New(env, CommRank, "commRank"));
  exports.Set("commSize", Napi::Function::New(env, CommSize, "commSize"));
  exports.Set("commSplit", Napi::Function::New(env, CommSplit, "commSplit"));
  exports.Set("wtime", Napi::Function::New(env, Wtime, "wtime"));
}

}  // namespace lasp_mpi
