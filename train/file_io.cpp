#include <lucid/train/file_io.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lucid/kernels/error.h>

namespace lucid::train {

FileHandle::FileHandle(const std::string& path, int flags, const char* who, unsigned mode)
    : path_(path) {
  do fd_ = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  while (fd_ < 0 && errno == EINTR);
  LUCID_CHECK(fd_ >= 0, who, ": ", path, ": cannot open (", std::strerror(errno), ")");
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

FileHandle::FileHandle(FileHandle&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

void FileHandle::write_all(std::string_view bytes, const char* who) {
  LUCID_CHECK(fd_ >= 0, who, ": ", path_, ": write to a closed file");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    LUCID_CHECK(n > 0, who, ": ", path_, ": write failed after ", done, " of ", bytes.size(), " bytes (",
                n < 0 ? std::strerror(errno) : "no progress", ")");
    done += static_cast<size_t>(n);
  }
}

void FileHandle::fsync(const char* who) {
  LUCID_CHECK(fd_ >= 0, who, ": ", path_, ": fsync of a closed file");
  LUCID_CHECK(::fsync(fd_) == 0, who, ": ", path_, ": fsync failed (", std::strerror(errno), ")");
}

void FileHandle::close(const char* who) {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  LUCID_CHECK(::close(fd) == 0, who, ": ", path_, ": close failed (", std::strerror(errno), ")");
}

void write_file_durable(const std::string& path, std::string_view bytes) {
  FileHandle file(path, O_WRONLY | O_CREAT | O_TRUNC, "write_file_durable");
  file.write_all(bytes, "write_file_durable");
  file.fsync("write_file_durable");
  file.close("write_file_durable");
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  try {
    FileHandle file(tmp, O_WRONLY | O_CREAT | O_TRUNC, "write_file_atomic");
    file.write_all(bytes, "write_file_atomic");
    file.fsync("write_file_atomic");
    file.close("write_file_atomic");
    LUCID_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, "write_file_atomic: ", path,
                ": cannot rename ", tmp, " over it (", std::strerror(errno), ")");
  } catch (...) {
    ::unlink(tmp.c_str());  // no half-written temp file left behind
    throw;
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  fsync_dir(parent.empty() ? "." : parent.string());
}

void fsync_dir(const std::string& dir) {
  FileHandle handle(dir, O_RDONLY | O_DIRECTORY, "fsync_dir");
  handle.fsync("fsync_dir");
}

std::string read_file_bytes(const std::string& path, const char* who, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before the check
  // below refuses it (for a regular file the flag changes nothing).
  FileHandle file(path, O_RDONLY | O_NONBLOCK, who);
  struct stat st {};
  LUCID_CHECK(::fstat(file.fd(), &st) == 0, who, ": ", path, ": cannot stat (", std::strerror(errno), ")");
  LUCID_CHECK(S_ISREG(st.st_mode), who, ": ", path, ": not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  LUCID_CHECK(size <= max_bytes, who, ": ", path, ": ", size, " bytes is more than the limit of ",
              max_bytes, " bytes");
  std::string bytes(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(file.fd(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    LUCID_CHECK(n >= 0, who, ": ", path, ": read failed (", std::strerror(errno), ")");
    LUCID_CHECK(n > 0, who, ": ", path, ": file shrank while reading (", done, " of ", size, " bytes)");
    done += static_cast<size_t>(n);
  }
  return bytes;
}

DirLock::DirLock(const std::string& dir, const char* who)
    : file_(dir + "/.lock", O_RDWR | O_CREAT, who) {
  if (::flock(file_.fd(), LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    const ssize_t n = ::pread(file_.fd(), pid, sizeof pid - 1, 0);
    LUCID_CHECK(false, who, ": ", dir, " is in use by another process (pid ",
                n > 0 ? std::string(pid, static_cast<size_t>(n)) : std::string("?"), ")");
  }
  const std::string mine = std::to_string(::getpid());
  if (::ftruncate(file_.fd(), 0) == 0) (void)::pwrite(file_.fd(), mine.data(), mine.size(), 0);
}

void RecordFile::open(const std::string& path, int extra_flags, const char* who) {
  std::lock_guard<std::mutex> lock(mutex_);
  LUCID_CHECK(file_.fd() < 0, who, ": ", path_, " is already open");
  file_ = FileHandle(path, O_WRONLY | O_CREAT | O_APPEND | extra_flags, who);
  path_ = path;
  const off_t end = ::lseek(file_.fd(), 0, SEEK_END);
  LUCID_CHECK(end >= 0, who, ": ", path, ": cannot seek (", std::strerror(errno), ")");
  size_ = static_cast<uint64_t>(end);
  broken_ = false;
}

void RecordFile::append(std::string_view record, const char* who) {
  std::lock_guard<std::mutex> lock(mutex_);
  LUCID_CHECK(file_.fd() >= 0, who, ": ", path_, ": the writer is closed");
  LUCID_CHECK(!broken_, who, ": ", path_,
              ": an earlier write failed and its partial record could not be removed; no more records");
  try {
    file_.write_all(record, who);  // names the file and the reason
  } catch (const Error&) {
    if (::ftruncate(file_.fd(), static_cast<off_t>(size_)) != 0) broken_ = true;
    throw;
  }
  size_ += record.size();
}

void RecordFile::flush(const char* who) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file_.fd() < 0) return;
  file_.fsync(who);
}

void RecordFile::close(const char* who) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (file_.fd() < 0) return;
  FileHandle file = std::move(file_);  // closed by its destructor even if fsync raises
  file.fsync(who);
  file.close(who);
}

}  // namespace lucid::train
