// Per-communicator executor threads: blocking MPI collectives (Open MPI's tuned algorithms) run off the
// JS thread, one at a time, in the order JS started them, which is the SPMD order every rank shares.
// Completion is a flag the poller reads. Used by the "queued" collective mode of MpiCommunicator.
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "lasp_mpi.h"

namespace lasp_mpi {

namespace {
struct Job {
  std::function<int()> run;
  std::shared_ptr<Done> done;
};

class Executor {
 public:
  Executor() : thread_([this] { Loop(); }) {}
  ~Executor() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Push(Job j) {
    {
      std::lock_guard<std::mutex> l(m_);
      q_.push_back(std::move(j));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      Job j;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [this] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        j = std::move(q_.front());
        q_.pop_front();
      }
      j.done->rc = j.run();
      j.done->finished.store(true, std::memory_order_release);
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Job> q_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

std::map<MPI_Comm, std::unique_ptr<Executor>> g_exec;
}  // namespace

std::shared_ptr<Done> Enqueue(MPI_Comm comm, std::function<int()> run) {
  auto& e = g_exec[comm];
  if (!e) e = std::make_unique<Executor>();
  auto done = std::make_shared<Done>();
  e->Push(Job{std::move(run), done});
  return done;
}

void StopExecutors() { g_exec.clear(); }

}  // namespace lasp_mpi
