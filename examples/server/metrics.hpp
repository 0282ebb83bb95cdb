// metrics: the server's counters and latency histograms, written in the Prometheus text format
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace llmt_server {

/// A histogram of durations in seconds with fixed bucket bounds.
struct histogram {
    static constexpr std::array<double, 14> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
    std::array<std::uint64_t, bounds.size()> counts{};  // per bucket (not cumulative)
    std::uint64_t count = 0;
    double sum = 0;
    void add(double seconds) {
        for (std::size_t i = 0; i < bounds.size(); ++i)
            if (seconds <= bounds[i]) {
                ++counts[i];
                break;
            }
        ++count;
        sum += seconds;
    }
    void write(std::string& out, std::string_view name, std::string_view help) const {
        out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
        std::uint64_t cum = 0;
        for (std::size_t i = 0; i < bounds.size(); ++i) {
            cum += counts[i];
            out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds[i], cum);
        }
        out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count, name, sum, name, count);
    }
};

/// Everything /metrics counts that the scheduler does not: thread-safe.
class metrics {
public:
    void request(const std::string& endpoint, int status) {
        std::lock_guard lk(mu_);
        ++requests_[{endpoint, status}];
    }
    void tokens(std::int64_t prompt, std::int64_t generated) {
        std::lock_guard lk(mu_);
        prompt_tokens_ += prompt;
        generated_tokens_ += generated;
    }
    void ttft(double seconds) {
        std::lock_guard lk(mu_);
        ttft_.add(seconds);
    }
    void itl(double seconds) {
        std::lock_guard lk(mu_);
        itl_.add(seconds);
    }
    void rejected() {
        std::lock_guard lk(mu_);
        ++rejected_;
    }

    /// Appends the counters (names prefixed llmt_).
    void write(std::string& out) const {
        std::lock_guard lk(mu_);
        out += "# HELP llmt_requests_total HTTP requests answered, by endpoint and status.\n# TYPE llmt_requests_total counter\n";
        for (const auto& [k, n] : requests_)
            out += fmt::format("llmt_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", k.first, k.second, n);
        out += fmt::format("# HELP llmt_prompt_tokens_total Prompt tokens of finished generations.\n"
                           "# TYPE llmt_prompt_tokens_total counter\nllmt_prompt_tokens_total {}\n", prompt_tokens_);
        out += fmt::format("# HELP llmt_generated_tokens_total Sampled tokens of finished generations.\n"
                           "# TYPE llmt_generated_tokens_total counter\nllmt_generated_tokens_total {}\n", generated_tokens_);
        out += fmt::format("# HELP llmt_requests_rejected_total Generations refused with 503 (queue full or shutting down).\n"
                           "# TYPE llmt_requests_rejected_total counter\nllmt_requests_rejected_total {}\n", rejected_);
        ttft_.write(out, "llmt_time_to_first_token_seconds", "From the request's arrival to its first sampled token.");
        itl_.write(out, "llmt_inter_token_latency_seconds", "Between two sampled tokens of one sample.");
    }

private:
    mutable std::mutex mu_;
    std::map<std::pair<std::string, int>, std::uint64_t> requests_;
    std::int64_t prompt_tokens_ = 0, generated_tokens_ = 0, rejected_ = 0;
    histogram ttft_, itl_;
};

}  // namespace llmt_server
