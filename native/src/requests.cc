// Pending non-blocking requests: an id per started operation, the JS buffers it uses kept referenced
// until it completes, test() for a poll from JS, and wait(id, timeoutMs) that polls MPI_Testall on a
// libuv worker so the event loop never blocks and a dead or diverged peer ends in a timeout, not a hang.
#include <sched.h>
#include <time.h>

#include <chrono>
#include <memory>
#include <unordered_map>

#include "lasp_mpi.h"

namespace lasp_mpi {

static std::unordered_map<double, std::unique_ptr<Pending>> g_pending;
static double g_next_id = 1;

double Register(Napi::Env env, std::vector<MPI_Request> reqs, std::vector<Napi::Value> keep, int expectRecv) {
  auto p = std::make_unique<Pending>();
  p->reqs = std::move(reqs);
  for (auto& v : keep) p->keep.push_back(Napi::Persistent(v));
  p->expectRecv = expectRecv;
  double id = g_next_id++;
  g_pending.emplace(id, std::move(p));
  return id;
}

double RegisterDone(Napi::Env env, std::shared_ptr<Done> done, std::vector<Napi::Value> keep) {
  double id = Register(env, {}, std::move(keep));
  g_pending[id]->done = std::move(done);
  return id;
}

static Pending& Lookup(const Napi::CallbackInfo& info, double& id) {
  id = NumberArg(info, 0, "request");
  auto it = g_pending.find(id);
  if (it == g_pending.end()) {
    throw Napi::RangeError::New(info.Env(), "request " + std::to_string(static_cast<long long>(id)) +
                                                " is unknown or already completed");
  }
  if (it->second->waiting) throw Napi::Error::New(info.Env(), "request is already being waited on");
  return *it->second;
}

// One MPI_Testall. Returns MPI's rc; sets `done`; on completion checks an irecv's element count.
static int TestOnce(Pending& p, bool& done, std::string& err) {
  if (p.done) {
    done = p.done->finished.load(std::memory_order_acquire);
    if (done && p.done->rc != MPI_SUCCESS) {
      err = "MPI collective failed: " + ErrorString(p.done->rc);
      return p.done->rc;
    }
    return MPI_SUCCESS;
  }
  int flag = 0;
  std::vector<MPI_Status> st(p.reqs.size());
  int rc = MPI_Testall(static_cast<int>(p.reqs.size()), p.reqs.data(), &flag, st.data());
  if (rc != MPI_SUCCESS) {
    err = "MPI_Testall failed: " + ErrorString(rc);
    return rc;
  }
  done = flag != 0;
  if (done && p.expectRecv >= 0 && !st.empty()) {
    int got = 0;
    MPI_Get_count(&st.back(), MPI_FLOAT, &got);
    if (got != p.expectRecv) {
      err = "received " + std::to_string(got) + " elements from rank " + std::to_string(st.back().MPI_SOURCE) +
            ", expected " + std::to_string(p.expectRecv);
      return MPI_ERR_COUNT;
    }
  }
  return MPI_SUCCESS;
}

// test(id) -> true when complete (the id is then released), false when still in flight
static Napi::Value Test(const Napi::CallbackInfo& info) {
  double id;
  Pending& p = Lookup(info, id);
  bool done = false;
  std::string err;
  int rc = TestOnce(p, done, err);
  if (rc != MPI_SUCCESS || done) g_pending.erase(id);
  if (rc != MPI_SUCCESS) throw Napi::Error::New(info.Env(), err);
  return Napi::Boolean::New(info.Env(), done);
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, double id, Pending* p, double timeoutMs, double spinMs)
      : Napi::AsyncWorker(env, "lasp_mpi.wait"), deferred_(Napi::Promise::Deferred::New(env)), id_(id), p_(p),
        timeoutMs_(timeoutMs), spinMs_(spinMs) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  // Spin (yielding the core) for the first spinMs, as MPI_Wait would, then poll every 50 us so a long
  // wait costs little CPU. Every MPI_Testall also drives MPI's progress (fragments, collective rounds).
  void Execute() override {
    using Clock = std::chrono::steady_clock;
    auto t0 = Clock::now();
    for (;;) {
      if (TestOnce(*p_, done_, err_) != MPI_SUCCESS) return SetError(err_);
      if (done_) return;
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (ms >= timeoutMs_) return;
      if (ms < spinMs_) {
        sched_yield();
      } else {
        struct timespec ts = {0, 50 * 1000};
        nanosleep(&ts, nullptr);
      }
    }
  }
  void OnOK() override {
    if (done_) {
      g_pending.erase(id_);
    } else {
      p_->waiting = false;  // timed out: still pending, buffers still referenced
    }
    deferred_.Resolve(Napi::Boolean::New(Env(), done_));
  }
  void OnError(const Napi::Error& e) override {
    g_pending.erase(id_);
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  double id_;
  Pending* p_;
  double timeoutMs_;
  double spinMs_;
  bool done_ = false;
  std::string err_;
};

// wait(id, timeoutMs, spinMs = 50) -> Promise<boolean>: true = complete, false = timed out (request kept)
static Napi::Value Wait(const Napi::CallbackInfo& info) {
  double id;
  Pending& p = Lookup(info, id);
  double timeoutMs = NumberArg(info, 1, "timeoutMs");
  double spinMs = info.Length() > 2 && !info[2].IsUndefined() ? NumberArg(info, 2, "spinMs") : 50.0;
  p.waiting = true;
  auto* w = new WaitWorker(info.Env(), id, &p, timeoutMs, spinMs);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

size_t PendingRequests() { return g_pending.size(); }

static Napi::Value PendingCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_pending.size()));
}

void InitRequests(Napi::Env env, Napi::Object exports) {
  exports.Set("test", Napi::Function::New(env, Test, "test"));
  exports.Set("wait", Napi::Function::New(env, Wait, "wait"));
  exports.Set("pendingCount", Napi::Function::New(env, PendingCount, "pendingCount"));
}

}  // namespace lasp_mpi
