#include "app/CommandClient.hpp"

#include <curl/curl.h>

namespace chgate::app {

namespace {

struct Sink {
    std::string* body;
    std::size_t max;
    bool too_big = false;
};

std::size_t append_to(char* data, std::size_t size, std::size_t n, void* out) {
    auto& sink = *static_cast<Sink*>(out);
    if (sink.body->size() + size * n > sink.max) {
        sink.too_big = true;
        return 0;  // libcurl then fails the transfer
    }
    sink.body->append(data, size * n);
    return size * n;
}

}  // namespace

CommandClient::CommandClient() : curl_(curl_easy_init()) {}

CommandClient::~CommandClient() {
    if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

bool CommandClient::perform(const Request& request, Answer& answer, std::string& error) {
    auto* curl = static_cast<CURL*>(curl_);
    if (!curl) {
        error = "cannot start libcurl";
        return false;
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                        curl_slist_free_all);
    if (request.accept_json) {
        headers.reset(curl_slist_append(headers.release(), "Accept: application/json"));
    }
    if (!request.token.empty()) {
        const auto auth = "Authorization: Bearer " + request.token;
        headers.reset(curl_slist_append(headers.release(), auth.c_str()));
    }
    answer = Answer{};
    Sink sink{&answer.body, request.max_body};
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    if (request.method == "POST") {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    } else {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_to);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
    const auto rc = curl_easy_perform(curl);
    // The handle outlives this call: leave it pointing at nothing of ours.
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, nullptr);
    if (sink.too_big) {
        error = request.url + ": the answer is over " + std::to_string(request.max_body) + " bytes";
        return false;
    }
    if (rc != CURLE_OK) {
        error = request.url + ": " + curl_easy_strerror(rc);
        return false;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
    return true;
}

}  // namespace chgate::app
