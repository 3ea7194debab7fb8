// baseline-server: the two physical limits chgate is measured against, as
// minimal Boost.Beast servers that answer 202 to every request.
//   baseline-server noop PORT [THREADS]
//       reads each request and answers at once, with no parsing of the body
//       and no buffering: the "bare Beast server doing nothing" of bench.py.
//   baseline-server durable PORT DIR [THREADS]
//       durable-echo: appends each body to DIR/durable-echo.log, group-commits
//       it with fdatasync on one writer thread (whatever arrived during a sync
//       goes in the next), and answers only after the sync that covers the
//       body, from the connection's io thread. No parsing, no batching, no
//       ClickHouse.
//   baseline-server durable-direct PORT DIR [THREADS]
//       the same, but the writer thread sends each answer straight to the
//       socket (non-blocking) while the connection already reads its next
//       request, as chgate does: no hop back to the io thread. The fastest
//       any durable gateway can answer on this machine, the baseline of
//       bench_durable.py. Assumes one request at a time per connection
//       (closed-loop clients, as chgate-load is), HTTP/1.1 keep-alive.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

/// One append-only file and the thread that syncs it: group commit.
class Log {
  public:
    explicit Log(const std::string& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
        if (fd_ < 0) {
            std::perror("durable-echo: open");
            std::exit(1);
        }
        thread_ = std::thread([this] { run(); });
    }

    /// `done` runs on the writer thread once `body` is synced.
    void append(std::string_view body, std::function<void()> done) {
        {
            std::lock_guard lock(mutex_);
            pending_.append(body);
            pending_.push_back('\n');
            waiters_.push_back(std::move(done));
        }
        cv_.notify_one();
    }

  private:
    void run() {
        std::string bytes;
        std::vector<std::function<void()>> waiters;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return !pending_.empty(); });
                bytes.swap(pending_);
                waiters.swap(waiters_);
            }
            for (std::size_t off = 0; off < bytes.size();) {
                const auto n = ::write(fd_, bytes.data() + off, bytes.size() - off);
                if (n < 0) {
                    std::perror("durable-echo: write");
                    std::exit(1);
                }
                off += static_cast<std::size_t>(n);
            }
            if (::fdatasync(fd_) != 0) {
                std::perror("durable-echo: fdatasync");
                std::exit(1);
            }
            for (auto& w : waiters)
                w();
            bytes.clear();
            waiters.clear();
        }
    }

    const int fd_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::string pending_;                         // guarded by mutex_
    std::vector<std::function<void()>> waiters_;  // guarded by mutex_
    std::thread thread_;
};

/// One keep-alive connection; with a log, each answer waits for its sync.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket socket, Log* log, bool direct)
        : stream_(std::move(socket)), log_(log), direct_(direct) {}
    void start() { read(); }

  private:
    void read() {
        request_ = {};
        http::async_read(stream_, buffer_, request_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return;
                             if (!self->log_) return self->respond();
                             if (self->direct_ && self->request_.keep_alive() &&
                                 self->request_.version() == 11) {
                                 return self->log_direct();
                             }
                             self->log();
                         });
    }
    // The writer thread sends the answer after the sync; this thread reads on.
    void log_direct() {
        static constexpr std::string_view kAccepted =
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
            "Content-Length: 14\r\n\r\n{\"accepted\":1}";
        const int fd = stream_.socket().native_handle();
        log_->append(request_.body(), [self = shared_from_this(), fd] {
            const auto n =
                ::send(fd, kAccepted.data(), kAccepted.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0 && static_cast<std::size_t>(n) < kAccepted.size()) {
                // The socket took part: the rest from the connection's thread.
                net::post(self->stream_.get_executor(), [self, n] {
                    net::async_write(self->stream_, net::buffer(kAccepted.substr(n)),
                                     [self](beast::error_code, std::size_t) {});
                });
            }
        });
        read();
    }
    // The answer waits for the sync, then goes back to this connection's thread.
    void log() {
        log_->append(request_.body(), [self = shared_from_this()] {
            net::post(self->stream_.get_executor(), [self] { self->respond(); });
        });
    }
    void respond() {
        response_ = {http::status::accepted, request_.version()};
        response_.set(http::field::content_type, "application/json");
        response_.body() = R"({"accepted":1})";
        response_.keep_alive(request_.keep_alive());
        response_.prepare_payload();
        http::async_write(stream_, response_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec || !self->response_.keep_alive()) return;
                              self->read();
                          });
    }

    beast::tcp_stream stream_;
    Log* const log_;
    const bool direct_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
};

void accept(tcp::acceptor& acceptor, net::io_context& ioc, Log* log, bool direct) {
    acceptor.async_accept(
        ioc, [&acceptor, &ioc, log, direct](beast::error_code ec, tcp::socket socket) {
            if (!ec) {
                socket.set_option(tcp::no_delay(true), ec);
                std::make_shared<Connection>(std::move(socket), log, direct)->start();
            }
            accept(acceptor, ioc, log, direct);
        });
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    const bool direct = mode == "durable-direct";
    const bool durable = mode == "durable" || direct;
    if ((mode != "noop" && !durable) || argc < (durable ? 4 : 3)) {
        std::fprintf(stderr,
                     "usage: baseline-server noop PORT [THREADS]\n"
                     "       baseline-server durable|durable-direct PORT DIR [THREADS]\n");
        return 2;
    }
    const auto port = static_cast<unsigned short>(std::atoi(argv[2]));
    const int threads_arg = durable ? 4 : 3;
    const int threads = argc > threads_arg ? std::max(1, std::atoi(argv[threads_arg])) : 1;
    std::unique_ptr<Log> log;
    if (durable) log = std::make_unique<Log>(std::string(argv[3]) + "/durable-echo.log");
    net::io_context ioc(threads);
    tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), port});
    accept(acceptor, ioc, log.get(), direct);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
        pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool)
        t.join();
}
