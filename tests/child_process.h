// ChildProcess: runs a program in a child process (fork + execv), its stdout
// and stderr into one log file, for the tests that start lucid-train, wait
// for it, or SIGKILL it at a chosen moment.
#pragma once
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lucid::testing {

class ChildProcess {
 public:
  // `env`: extra "NAME=value" entries on top of this process's environment.
  ChildProcess(std::vector<std::string> argv, std::string log_path, std::vector<std::string> env = {})
      : log_path_(std::move(log_path)) {
    // Everything the child needs is built before fork(): between fork and exec
    // a child of a threaded process may only make async-signal-safe calls (no
    // allocation: another thread may have held the allocator's lock).
    for (char** e = environ; *e; ++e) env.push_back(*e);  // after the extra entries: getenv finds those first
    std::vector<char*> args, envp;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (fd >= 0) {
        ::dup2(fd, 1);  // dup2 clears O_CLOEXEC on the copies
        ::dup2(fd, 2);
      }
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    if (fd >= 0) ::close(fd);
  }
  ~ChildProcess() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits for the exit; the raw waitpid status.
  int wait() {
    if (!done_) {
      ::waitpid(pid_, &status_, 0);
      done_ = true;
    }
    return status_;
  }
  // Polls `condition` every millisecond until it holds (true) or the child
  // exits or `timeout` passes (false).
  bool wait_until(const std::function<bool()>& condition, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (condition()) return true;
      if (!done_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) done_ = true;
      if (done_) return condition();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  void kill(int sig) { ::kill(pid_, sig); }
  bool exited() const { return done_; }
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool done_ = false;
};

// Runs to the end; returns the exit code (128 + signal when killed by one).
inline int run_child(std::vector<std::string> argv, const std::string& log_path, std::vector<std::string> env = {}) {
  ChildProcess child(std::move(argv), log_path, std::move(env));
  const int status = child.wait();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace lucid::testing
