// Framed messages between the addon and the helper (a SOCK_STREAM socketpair:
// a 4-byte little-endian length, then the payload; an fd may ride on a frame),
// and datagrams between the helper and the container (SOCK_SEQPACKET).
#ifndef TSB_CHANNEL_H_
#define TSB_CHANNEL_H_

#include <string>

namespace tsb {

// Sends one frame, with fd_to_pass attached when >= 0. Returns false on error (errno set).
bool SendFrame(int sock, const std::string& payload, int fd_to_pass = -1);

// Reads one frame. Returns 1 for a frame, 0 at end of stream, -1 on error (errno set).
// *fd receives a passed descriptor (close-on-exec) or -1.
int RecvFrame(int sock, std::string* payload, int* fd);

// One datagram on a SOCK_SEQPACKET socket, with an optional fd.
bool SendPacket(int sock, const std::string& payload, int fd_to_pass = -1);
int RecvPacket(int sock, std::string* payload, int* fd);

}  // namespace tsb

#endif  // TSB_CHANNEL_H_
