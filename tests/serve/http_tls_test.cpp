// https:// through serve/http_conn.* (builds with OpenSSL only): a TLS
// server on loopback with a certificate made here (self-signed, for
// "localhost" and 127.0.0.1). Trusted through HttpOptions::ca_file the
// request goes through; with the system's store, or for a name the
// certificate does not carry, the handshake fails with the reason.
#ifdef ALIGNERS_HAVE_OPENSSL
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "serve/fake_http_server.h"
#include "serve/http_client.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::serve;

namespace {

// A self-signed P-256 certificate for `sans` ("DNS:localhost,IP:127.0.0.1").
struct TestCert {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    explicit TestCert(const char* sans) {
        key = EVP_EC_gen("P-256");
        cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char*)"aligners test", -1, -1, 0);
        X509_set_issuer_name(cert, name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        for (auto [ext_name, value] : {std::pair{"subjectAltName", sans}, std::pair{"basicConstraints", "critical,CA:TRUE"}}) {
            X509_EXTENSION* ext = X509V3_EXT_conf(nullptr, &ctx, ext_name, value);
            X509_add_ext(cert, ext, -1);
            X509_EXTENSION_free(ext);
        }
        X509_sign(cert, key, EVP_sha256());
    }
    ~TestCert() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    std::string pem() const {
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, cert);
        char* data;
        long n = BIO_get_mem_data(b, &data);
        std::string out(data, size_t(n));
        BIO_free(b);
        return out;
    }
};

// A one-connection-at-a-time TLS server thread on 127.0.0.1.
class TlsListener {
public:
    explicit TlsListener(const TestCert& c) : ctx_(SSL_CTX_new(TLS_server_method())) {
        SSL_CTX_use_certificate(ctx_, c.cert);
        SSL_CTX_use_PrivateKey(ctx_, c.key);
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        REQUIRE(bind(fd_, (sockaddr*)&a, len) == 0);
        REQUIRE(listen(fd_, 8) == 0);
        REQUIRE(getsockname(fd_, (sockaddr*)&a, &len) == 0);
        port = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~TlsListener() {
        stopping_ = true;
        thread_.join();
        close(fd_);
        SSL_CTX_free(ctx_);
    }
    int port = 0;

private:
    void loop() {
        while (!stopping_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            timeval tv{5, 0};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            SSL* ssl = SSL_new(ctx_);
            SSL_set_fd(ssl, c);
            if (SSL_accept(ssl) == 1) {
                std::string req;
                char buf[4096];
                int n;
                while (req.find("\r\n\r\n") == std::string::npos && (n = SSL_read(ssl, buf, sizeof buf)) > 0)
                    req.append(buf, size_t(n));
                std::string body = "secure " + req.substr(0, req.find(' '));
                std::string resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + test::chunk(body) + "0\r\n\r\n";
                SSL_write(ssl, resp.data(), int(resp.size()));
                SSL_shutdown(ssl);
            }
            SSL_free(ssl);
            ERR_clear_error();
            close(c);
        }
    }
    SSL_CTX* ctx_;
    int fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

template <class F>
std::string error_of(F&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("http_client: https to a server whose certificate is trusted, and refused when it is not") {
    TestCert cert("DNS:localhost,IP:127.0.0.1");
    TlsListener server(cert);
    std::string ca = path_join(test::scratch_dir("http_tls"), "ca.pem");
    write_file_atomic(ca, cert.pem());
    HttpOptions trusted;
    trusted.connect_timeout_ms = trusted.read_timeout_ms = 5000;
    trusted.ca_file = ca;
    std::string port = std::to_string(server.port);

    // By IP address (checked against the IP SAN) and by name (DNS SAN, SNI;
    // "localhost" may resolve to ::1 first, where nothing listens).
    CHECK(http_request("GET", "https://127.0.0.1:" + port + "/x", {}, "", trusted).body == "secure GET");
    CHECK(http_request("POST", "https://localhost:" + port + "/x", {}, "{}", trusted).body == "secure POST");

    // The system's CA store does not know this certificate.
    HttpOptions system = trusted;
    system.ca_file = "";
    std::string url = "https://127.0.0.1:" + port + "/";
    std::string msg = error_of([&] { http_request("GET", url, {}, "", system); });
    CAPTURE(msg);
    CHECK(msg.find("GET " + url + ": TLS handshake failed: certificate verify failed (self-signed certificate)") == 0);

    // Trusted, but issued for other names.
    TestCert other("DNS:example.org");
    TlsListener elsewhere(other);
    std::string other_ca = path_join(test::scratch_dir("http_tls"), "other.pem");
    write_file_atomic(other_ca, other.pem());
    HttpOptions o = trusted;
    o.ca_file = other_ca;
    std::string other_url = "https://127.0.0.1:" + std::to_string(elsewhere.port) + "/";
    msg = error_of([&] { http_request("GET", other_url, {}, "", o); });
    CAPTURE(msg);
    CHECK(msg.find("certificate verify failed (IP address mismatch)") != std::string::npos);

    // A CA file that is not there.
    o.ca_file = "/nonexistent/ca.pem";
    CHECK(error_of([&] { http_request("GET", url, {}, "", o); }) ==
          "GET " + url + ": TLS: cannot load CA certificates from '/nonexistent/ca.pem'");
}
#endif
