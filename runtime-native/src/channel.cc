#include "channel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tsb {
namespace {

bool SendWithFd(int sock, const void* data, size_t len, int fd_to_pass) {
  struct iovec iov;
  iov.iov_base = const_cast<void*>(data);
  iov.iov_len = len;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd_to_pass >= 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (static_cast<size_t>(n) == len) return true;
    // A short write on a stream socket: the fd went with the first part; send the rest plainly.
    const char* rest = static_cast<const char*>(data) + n;
    size_t left = len - static_cast<size_t>(n);
    while (left > 0) {
      ssize_t m = send(sock, rest, left, MSG_NOSIGNAL);
      if (m < 0 && errno == EINTR) continue;
      if (m < 0) return false;
      rest += m;
      left -= static_cast<size_t>(m);
    }
    return true;
  }
}

// recvmsg of up to len bytes, collecting a passed fd. Returns bytes read, 0 at EOF, -1 on error.
ssize_t RecvWithFd(int sock, void* data, size_t len, int* fd, int flags) {
  struct iovec iov;
  iov.iov_base = data;
  iov.iov_len = len;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (*fd < 0) {
        *fd = got;
      } else {
        close(got);
      }
    }
  }
  return n;
}

}  // namespace

bool SendFrame(int sock, const std::string& payload, int fd_to_pass) {
  std::vector<char> buf(4 + payload.size());
  uint32_t len = static_cast<uint32_t>(payload.size());
  buf[0] = static_cast<char>(len & 0xff);
  buf[1] = static_cast<char>((len >> 8) & 0xff);
  buf[2] = static_cast<char>((len >> 16) & 0xff);
  buf[3] = static_cast<char>((len >> 24) & 0xff);
  if (!payload.empty()) memcpy(buf.data() + 4, payload.data(), payload.size());
  return SendWithFd(sock, buf.data(), buf.size(), fd_to_pass);
}

int RecvFrame(int sock, std::string* payload, int* fd) {
  *fd = -1;
  unsigned char header[4];
  size_t got = 0;
  while (got < sizeof(header)) {
    ssize_t n = RecvWithFd(sock, header + got, sizeof(header) - got, fd, 0);
    if (n < 0) return -1;
    if (n == 0) {
      if (got == 0) return 0;
      errno = EPROTO;
      return -1;
    }
    got += static_cast<size_t>(n);
  }
  uint32_t len = header[0] | (header[1] << 8) | (header[2] << 16) | (static_cast<uint32_t>(header[3]) << 24);
  if (len > (64u << 20)) {
    errno = EMSGSIZE;
    return -1;
  }
  payload->assign(len, '\0');
  size_t read_bytes = 0;
  while (read_bytes < len) {
    ssize_t n = RecvWithFd(sock, &(*payload)[read_bytes], len - read_bytes, fd, 0);
    if (n < 0) return -1;
    if (n == 0) {
      errno = EPROTO;
      return -1;
    }
    read_bytes += static_cast<size_t>(n);
  }
  return 1;
}

bool SendPacket(int sock, const std::string& payload, int fd_to_pass) {
  return SendWithFd(sock, payload.data(), payload.size(), fd_to_pass);
}

int RecvPacket(int sock, std::string* payload, int* fd) {
  *fd = -1;
  char buf[65536];
  ssize_t n = RecvWithFd(sock, buf, sizeof(buf), fd, 0);
  // A peer that exits with unread packets (the container failing before it read `go`) leaves a one-time
  // ECONNRESET ahead of the packets it sent: read on, they (its error report) are still queued.
  if (n < 0 && errno == ECONNRESET) n = RecvWithFd(sock, buf, sizeof(buf), fd, 0);
  if (n < 0) return -1;
  if (n == 0) return 0;
  payload->assign(buf, static_cast<size_t>(n));
  return 1;
}

}  // namespace tsb
