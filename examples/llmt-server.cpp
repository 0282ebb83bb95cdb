// llmt-server: an OpenAI- and Ollama-compatible HTTP server over the continuous-batching scheduler
#include "cli_app.hpp"
#include "server/engine.hpp"
#include "server/json_input.hpp"
#include "server/metrics.hpp"
#include "server/ollama_api.hpp"
#include "server/openai_api.hpp"
#include "server/openapi.hpp"
#include "server/web_page.hpp"

#include <llmt/llmt.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifndef LLMT_SERVER_DEFAULT_MODEL
#define LLMT_SERVER_DEFAULT_MODEL ""
#endif

namespace {
using namespace llmt_server;
using llmt_cli::usage_fail;

struct server_options {
    llmt_cli::gen_options gen;
    std::string host = "127.0.0.1", api_key, api_key_file, alias, kv_type;
    int port = 8080, parallel = 4, max_queue = 64, timeout = 600, grace = 5;
    std::int64_t kv_blocks = 0, kv_budget = 0, max_body = 8 << 20;
};

/// What a request's log line and the metrics need, kept per HTTP worker thread (a thread serves one
/// request at a time, from its routing to its last written byte).
struct request_log {
    clock_type::time_point start{};
    std::int64_t prompt = -1, cached = 0, generated = 0;
};
thread_local request_log t_log;

/// The known routes, for the metrics' endpoint label (anything else is "other").
constexpr std::string_view routes[] = {"/", "/health", "/apply-template", "/metrics", "/openapi.json", "/v1/models", "/v1/chat/completions",
                                       "/v1/completions", "/api/generate", "/api/chat", "/api/tags", "/api/show",
                                       "/api/version", "/api/ps"};

std::string printable(std::string_view s, std::size_t max = 200) {
    std::string out;
    for (const char c : s.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) out += fmt::format("\\x{:02x}", u);  // bytes of a log line stay ASCII
        else out += c;
    }
    if (s.size() > max) out += "...";
    return out;
}

/// Equal strings, in a time that depends on the length of `expected` only.
bool constant_time_equal(std::string_view given, std::string_view expected) {
    unsigned diff = given.size() == expected.size() ? 0u : 1u;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const char g = i < given.size() ? given[i] : '\0';
        diff |= unsigned(static_cast<unsigned char>(g ^ expected[i]));
    }
    return diff == 0;
}

void send_error(httplib::Response& res, const api_error& e) {
    res.status = e.status;
    if (e.status == 503) res.set_header("Retry-After", "1");
    if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(dump(error_body(e)), "application/json");
}

void send_json(httplib::Response& res, const json& j) { res.set_content(dump(j), "application/json"); }

/// The server: the model once loaded, the engine, and the HTTP routes.
class server {
public:
    explicit server(server_options o) : o_(std::move(o)) {}

    int run() {
        setup_routes();
        http_.new_task_queue = [n = std::size_t(std::min(1024, o_.parallel + o_.max_queue + 16))] { return new httplib::ThreadPool(n); };
        http_.set_payload_max_length(std::size_t(o_.max_body));
        http_.set_read_timeout(o_.timeout, 0);
        http_.set_write_timeout(o_.timeout, 0);
        http_.set_keep_alive_timeout(2);
        http_.set_keep_alive_max_count(1000);
        http_.set_tcp_nodelay(true);
        int port = o_.port;
        if (port == 0) {
            port = http_.bind_to_any_port(o_.host);
            if (port < 0) llmt::fail(llmt::errc::io, "cannot listen on {} (any port)", o_.host);
        } else if (!http_.bind_to_port(o_.host, port)) {
            llmt::fail(llmt::errc::io, "cannot listen on {}:{} (in use, or not an address of this machine)", o_.host, port);
        }
        fmt::print(stderr, "llmt-server: listening on http://{}:{}\n", o_.host, port);
        std::fflush(stderr);
        std::thread listener([this] { http_.listen_after_bind(); });
        std::thread signals([this] { wait_for_signal(); });
        try {
            load();
        } catch (...) {
            pthread_kill(signals.native_handle(), SIGUSR1);
            http_.stop();
            listener.join();
            signals.join();
            throw;
        }
        ready_ = true;
        fmt::print(stderr, "llmt-server: ready: {} ({}), context {}, {} threads, parallel {}, queue {}, KV {} blocks of {} positions\n",
                   mi_.alias, model_->describe(), mi_.n_ctx, model_->threads(), o_.parallel, o_.max_queue, kv_blocks_,
                   kv_block_tokens_);
        std::fflush(stderr);
        listener.join();
        signals.join();
        fmt::print(stderr, "llmt-server: stopped\n");
        return llmt_cli::exit_ok;
    }

private:
    void load() {
        auto& g = o_.gen;
        if (g.model.empty()) {
            const char* env = std::getenv("LLMT_MODEL");
            if (env && *env) g.model = env;
            else g.model = LLMT_SERVER_DEFAULT_MODEL;
        }
        if (!o_.kv_type.empty()) g.cache_type_k = o_.kv_type;
        model_ = llmt_cli::load_model(g);
        tok_ = std::make_unique<llmt::tokenizer::tokenizer>(llmt::tokenizer::tokenizer::from_gguf(model_->gguf()));
        chat_ = std::make_unique<rt::chat_template>(llmt_cli::pick_chat_template(g, *model_, tok_->get_vocab()));
        llmt::context_options co;
        co.kv_blocks = o_.kv_blocks;
        co.kv_bytes = std::size_t(o_.kv_budget);
        if (co.kv_blocks == 0 && co.kv_bytes == 0) {  // room for every slot's full context
            const std::int64_t per = (model_->n_ctx() + 15) / 16 + 1;
            co.kv_blocks = per * o_.parallel + 1;
        }
        ctx_ = model_->make_context(co);
        mi_.alias = o_.alias.empty() ? std::filesystem::path(g.model).filename().string() : o_.alias;
        mi_.path = g.model;
        mi_.model = model_.get();
        mi_.tok = tok_.get();
        mi_.chat = chat_.get();
        mi_.n_ctx = ctx_->n_ctx();
        mi_.n_vocab = model_->n_vocab();
        mi_.created = unix_now();
        // read before the scheduler's thread starts: from then on only that thread touches the context
        kv_blocks_ = ctx_->stats().blocks_total;
        kv_block_tokens_ = ctx_->stats().block_tokens;
        engine_ = std::make_unique<engine>(*ctx_, *tok_, engine_options{o_.parallel, o_.max_queue}, metrics_);
    }

    // SIGINT / SIGTERM (blocked in every other thread): stop accepting, let running generations
    // finish within the grace period, cancel the rest, stop the HTTP server.
    void wait_for_signal() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1);  // sent by stop_signal_thread
        int sig = 0;
        sigwait(&set, &sig);
        if (sig == SIGUSR1 && !ready_) {  // the load failed
            http_.stop();
            return;
        }
        if (sig != SIGUSR1) fmt::print(stderr, "llmt-server: {}: shutting down (grace period {} s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM", o_.grace);
        closing_ = true;
        if (ready_ && engine_) engine_->close(std::chrono::seconds(o_.grace));  // ready_ first: it orders load()'s writes before
        http_.stop();
    }

    bool ready() const { return ready_ && !closing_; }

    // ---- routes ----
    // With --api-key: 'Authorization: Bearer KEY', compared in constant time, or 401.
    void check_key(const httplib::Request& req) const {
        if (o_.api_key.empty()) return;
        const std::string auth = req.get_header_value("Authorization");
        std::string_view given;
        if (auth.size() > 7 && auth.compare(0, 7, "Bearer ") == 0) given = std::string_view(auth).substr(7);
        if (!constant_time_equal(given, o_.api_key))
            throw api_error(401, given.empty() ? "no API key: send the header 'Authorization: Bearer KEY'" : "the API key is not valid",
                            "invalid_request_error", {}, "invalid_api_key");
    }

    template <typename F>
    auto guarded(F f) {
        return [this, f](const httplib::Request& req, httplib::Response& res) {
            try {
                check_key(req);  // here, not before routing: a POST's body is read first, so the connection stays usable
                if (!ready_) throw api_error(503, "the model is loading", "server_error");
                f(req, res);
            } catch (const api_error& e) {
                send_error(res, e);
            } catch (const llmt::error& e) {
                send_error(res, api_error(500, e.what(), "server_error"));
            } catch (const std::bad_alloc&) {
                send_error(res, api_error(500, "out of memory", "server_error"));
            } catch (const std::exception& e) {
                send_error(res, api_error(500, e.what(), "server_error"));
            }
        };
    }

    void setup_routes() {
        http_.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
            t_log = request_log{clock_type::now()};
            return httplib::Server::HandlerResponse::Unhandled;
        });
        http_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            std::string msg;
            switch (res.status) {
                case 404: msg = fmt::format("no route {} {}", req.method, printable(req.path)); break;
                case 413: msg = "the request body is larger than the limit (--max-body)"; break;
                case 414: msg = "the request target is too long"; break;
                case 400: msg = "the request is malformed"; break;
                default: msg = fmt::format("HTTP status {}", res.status);
            }
            send_error(res, api_error(res.status, msg, res.status >= 500 ? "server_error" : "invalid_request_error"));
            return httplib::Server::HandlerResponse::Handled;
        }));
        http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            send_error(res, api_error(500, "internal error", "server_error"));
        });
        http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log(req, res); });

        http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
            if (!ready_) {
                res.status = 503;
                send_json(res, {{"status", "loading"}});
            } else if (closing_) {
                res.status = 503;
                send_json(res, {{"status", "shutting down"}});
            } else {
                send_json(res, {{"status", "ok"}});
            }
        });
        http_.Get("/", [](const httplib::Request&, httplib::Response& res) {
            res.set_header("Cache-Control", "no-cache");
            res.set_header("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'");
            res.set_content(web_page, "text/html; charset=utf-8");
        });
        http_.Get("/openapi.json", guarded([this](const httplib::Request&, httplib::Response& res) {
            send_json(res, openapi_document(mi_));
        }));
        http_.Get("/v1/models", guarded([this](const httplib::Request&, httplib::Response& res) {
            send_json(res, {{"object", "list"},
                            {"data", json::array({{{"id", mi_.alias}, {"object", "model"}, {"created", mi_.created}, {"owned_by", "llmt"},
                                                   {"meta", {{"n_ctx", mi_.n_ctx}, {"n_vocab", mi_.n_vocab},
                                                             {"n_params_desc", model_->describe()}}}}})}});
        }));
        http_.Post("/apply-template", guarded([this](const httplib::Request& req, httplib::Response& res) {
            const json body = parse_body(req.body);
            fields f(body);
            const auto messages = read_messages(f);
            try {
                send_json(res, {{"prompt", mi_.chat->render(messages, true).text}});
            } catch (const llmt::error& e) {
                bad_field("messages", "the chat template refuses these messages: {}", e.what());
            }
        }));
        http_.Get("/metrics", guarded([this](const httplib::Request&, httplib::Response& res) {
            std::string out;
            metrics_.write(out);
            const auto st = engine_->stats();
            const auto [running, queued] = engine_->load();
            auto gauge = [&](std::string_view name, std::string_view help, std::int64_t v) {
                out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
            };
            auto counter = [&](std::string_view name, std::string_view help, std::int64_t v) {
                out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
            };
            gauge("llmt_requests_running", "Generations holding a slot (--parallel).", running);
            gauge("llmt_requests_queued", "Generations waiting for a slot (--max-queue).", queued);
            gauge("llmt_scheduler_sequences_running", "Sequences the scheduler stepped last.", st.running);
            gauge("llmt_scheduler_sequences_waiting", "Sequences waiting for KV blocks.", st.waiting);
            gauge("llmt_kv_blocks_total", "KV cache blocks.", st.context.blocks_total);
            gauge("llmt_kv_blocks_used", "KV cache blocks held by sequences.", st.context.blocks_used);
            gauge("llmt_kv_blocks_cached", "KV cache blocks held by no sequence, kept for prefix reuse.", st.context.blocks_cached);
            gauge("llmt_kv_blocks_free", "KV cache blocks free.", st.context.blocks_free);
            counter("llmt_prefix_tokens_reused_total", "Prompt positions mapped from the prefix cache.", st.prefix_tokens_reused);
            counter("llmt_prefill_tokens_total", "Prompt (and recomputed) tokens evaluated.", st.prefill_tokens);
            counter("llmt_decode_tokens_total", "Sampled tokens evaluated.", st.decode_tokens);
            counter("llmt_scheduler_steps_total", "Scheduler steps.", st.steps);
            counter("llmt_preemptions_total", "Sequences preempted for KV blocks.", st.preemptions);
            counter("llmt_cancelled_total", "Requests cancelled (clients gone).", st.cancelled);
            res.set_content(out, "text/plain; version=0.0.4");
        }));
        http_.Post("/v1/chat/completions", guarded([this](const httplib::Request& req, httplib::Response& res) {
            const auto r = parse_chat(parse_body(req.body), mi_);
            auto g = std::make_shared<generation>(r.spec);
            serve(res, g, chat_answer(r, mi_, g));
        }));
        setup_ollama_routes();
        http_.Post("/v1/completions", guarded([this](const httplib::Request& req, httplib::Response& res) {
            const auto r = parse_completion(parse_body(req.body), mi_);
            auto g = std::make_shared<generation>(r.spec);
            serve(res, g, completion_answer(r, mi_, g));
        }));
    }

    // Ollama's routes answer errors as {"error": "message"}.
    template <typename F>
    auto guarded_ollama(F f) {
        return guarded([f](const httplib::Request& req, httplib::Response& res) {
            try {
                f(req, res);
            } catch (const api_error& e) {
                res.status = e.status;
                if (e.status == 503) res.set_header("Retry-After", "1");
                send_json(res, {{"error", e.message}});
            }
        });
    }

    void setup_ollama_routes() {
        auto generate = [this](bool chat) {
            return guarded_ollama([this, chat](const httplib::Request& req, httplib::Response& res) {
                const json body = parse_body(req.body);
                const auto r = chat ? parse_ollama_chat(body, mi_) : parse_ollama_generate(body, mi_);
                if (r.load_only) return send_json(res, ollama_load_only(mi_, chat));
                auto g = std::make_shared<generation>(r.spec);
                serve(res, g, ollama_answer(r, mi_));
            });
        };
        http_.Post("/api/generate", generate(false));
        http_.Post("/api/chat", generate(true));
        http_.Get("/api/tags", guarded_ollama([this](const httplib::Request&, httplib::Response& res) {
            send_json(res, {{"models", json::array({ollama_model_entry(mi_)})}});
        }));
        http_.Post("/api/show", guarded_ollama([this](const httplib::Request& req, httplib::Response& res) {
            const json body = parse_body(req.body);
            fields f(body);
            const auto name = f.string("model", 1024).value_or(f.string("name", 1024).value_or(""));
            if (!is_our_model(name, mi_)) throw api_error(404, fmt::format("model '{}' not found", name), "not_found_error", "model");
            send_json(res, ollama_show(mi_));
        }));
        http_.Get("/api/version", guarded_ollama([](const httplib::Request&, httplib::Response& res) {
            send_json(res, {{"version", llmt::version_string}});
        }));
        http_.Get("/api/ps", guarded_ollama([this](const httplib::Request&, httplib::Response& res) {
            json m = ollama_model_entry(mi_);
            m["expires_at"] = "2999-01-01T00:00:00Z";
            m["size_vram"] = 0;
            send_json(res, {{"models", json::array({std::move(m)})}});
        }));
    }

    /// Admits g and answers with its stream or its whole body, written as chunks while the client is
    /// there; a client that leaves cancels it.
    void serve(httplib::Response& res, const std::shared_ptr<generation>& g, answer_format a) {
        if (closing_) throw api_error(503, "the server is shutting down", "server_error");
        if (!engine_->admit(g)) {
            metrics_.rejected();
            throw api_error(503, fmt::format("the server is busy: {} generations run and {} wait (--parallel, --max-queue); retry later",
                                             o_.parallel, o_.max_queue), "server_error");
        }
        if (a.stream) {
            res.set_header("Cache-Control", "no-cache");
            res.set_header("X-Accel-Buffering", "no");
        }
        auto fmt_ = std::make_shared<answer_format>(std::move(a));
        auto started = std::make_shared<bool>(false);
        engine* eng = engine_.get();
        res.set_chunked_content_provider(
            fmt_->content_type,
            [g, fmt_, started, eng](std::size_t, httplib::DataSink& sink) {
                std::string out;
                if (!*started) {
                    *started = true;
                    if (fmt_->begin) out = fmt_->begin();
                }
                std::vector<gen_event> events;
                const bool fin = g->next(events, std::chrono::milliseconds(out.empty() ? 100 : 0));
                if (fmt_->stream)
                    for (const auto& e : events) out += fmt_->event(e);
                if (fin) {
                    const std::string why = g->failure();
                    out += why.empty() ? fmt_->end(*g) : fmt_->failure(why);
                    t_log.prompt = g->prompt_tokens;
                    t_log.cached = g->cached_tokens;
                    t_log.generated = g->generated_tokens;
                }
                if (!out.empty() && !sink.write(out.data(), out.size())) {
                    eng->cancel(g);
                    return false;
                }
                if (fin) {
                    sink.done();
                    return true;
                }
                if (!sink.is_writable()) {  // the client is gone
                    eng->cancel(g);
                    return false;
                }
                return true;
            },
            [g, eng](bool) {
                if (!g->finished()) eng->cancel(g);
            });
    }

    void log(const httplib::Request& req, const httplib::Response& res) {
        std::string endpoint = "other";
        for (const auto r : routes)
            if (req.path == r) endpoint = std::string(r);
        metrics_.request(endpoint, res.status);
        const double ms = t_log.start == clock_type::time_point{} ? 0.0
                              : std::chrono::duration<double, std::milli>(clock_type::now() - t_log.start).count();
        std::string line = fmt::format("llmt-server: {} {} {}", printable(req.method, 16), printable(req.path), res.status);
        if (t_log.prompt >= 0) line += fmt::format(" prompt {} (cached {}) generated {}", t_log.prompt, t_log.cached, t_log.generated);
        line += fmt::format(" {:.1f} ms\n", ms);
        std::fwrite(line.data(), 1, line.size(), stderr);
        t_log = request_log{};
    }

    server_options o_;
    httplib::Server http_;
    metrics metrics_;
    std::unique_ptr<llmt::model_base> model_;
    std::unique_ptr<llmt::tokenizer::tokenizer> tok_;
    std::unique_ptr<rt::chat_template> chat_;
    std::unique_ptr<llmt::context_base> ctx_;
    std::int64_t kv_blocks_ = 0, kv_block_tokens_ = 0;  // the context's sizes, for the "ready" line
    std::unique_ptr<engine> engine_;
    model_info mi_;
    std::atomic<bool> ready_{false}, closing_{false};
};

int run(int argc, char** argv) {
    using namespace llmt_cli;
    // llama-server's spellings of the options that CLI11 would misread
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-np") a = "--parallel";
        else if (a == "-to") a = "--timeout";
        args.push_back(std::move(a));
    }
    std::vector<char*> ptrs;
    for (auto& a : args) ptrs.push_back(a.data());

    CLI::App app{"llmt-server: an OpenAI- and Ollama-compatible HTTP server (continuous batching of many clients)"};
    app.option_defaults()->always_capture_default();
    server_options o;
    o.gen.ctx = 0;
    add_model_options(app, o.gen);
    app.get_option("-m")->description(fmt::format("GGUF model file (default: the environment variable LLMT_MODEL, else {})",
                                                  *LLMT_SERVER_DEFAULT_MODEL ? LLMT_SERVER_DEFAULT_MODEL : "none"));
    app.add_option("--host", o.host, "address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)");
    app.add_option("--port", o.port, "port to listen on (0: any free port, printed at start)")->check(CLI::Range(0, 65535));
    app.add_option("--parallel", o.parallel, "-np: generations run at once (more wait in the queue)")->check(CLI::Range(1, 256));
    app.add_option("--max-queue", o.max_queue, "generations that may wait for a slot; more get 503 with Retry-After")
        ->check(CLI::Range(0, 4096));
    app.add_option("--kv-blocks", o.kv_blocks, "KV cache blocks of 16 positions (0: a full context for every parallel slot)")
        ->check(CLI::Range(std::int64_t(0), std::int64_t(1) << 24));
    app.add_option("--kv-budget", o.kv_budget, "KV cache memory in bytes (instead of --kv-blocks)")
        ->check(CLI::Range(std::int64_t(0), std::numeric_limits<std::int64_t>::max()));
    app.add_option("--kv-type", o.kv_type, "KV cache type: f32, f16 or q8_0 (as -ctk)");
    auto* key = app.add_option("--api-key", o.api_key, "require 'Authorization: Bearer KEY' on every route but /health and /");
    app.add_option("--api-key-file", o.api_key_file, "read the API key from the first line of this file")->excludes(key);
    app.add_option("-a,--alias", o.alias, "the model's name in answers (default: the file name)");
    app.add_option("--timeout", o.timeout, "-to: seconds a read or write of a connection may wait")->check(CLI::Range(1, 86400));
    app.add_option("--grace", o.grace, "seconds running generations may take to finish after SIGINT/SIGTERM")->check(CLI::Range(0, 3600));
    app.add_option("--max-body", o.max_body, "largest request body in bytes (413 beyond)")
        ->check(CLI::Range(std::int64_t(1024), std::int64_t(1) << 30));
    std::string names;
    for (const auto& [n, st] : llmt::runtime::chat_template::known) names += (names.empty() ? "" : ", ") + std::string(n);
    app.add_option("--chat-template", o.gen.chat_template,
                   "chat format: a variant of the file's template or a built-in one (default: the file's, chatml if none). Built-in: " + names);
    parse(app, int(ptrs.size()), ptrs.data(), true);
    after_parse(o.gen);
    if (o.kv_blocks && o.kv_budget) usage_fail("--kv-blocks and --kv-budget contradict each other: give one");
    if (!o.api_key_file.empty()) {
        std::string text = read_text_file(o.api_key_file, "--api-key-file", 1 << 16);
        o.api_key = text.substr(0, text.find_first_of("\r\n"));
        if (o.api_key.empty()) usage_fail("--api-key-file: '{}' holds no key on its first line", o.api_key_file);
    }
    // Every thread made from here on inherits the blocked signals: only the signal thread takes them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    server s(std::move(o));
    return s.run();
}
}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-server", [&] { return run(argc, argv); });
}
