/*
 * alibabacloud/oss/utils/Outcome.h - Outcome<E, R>: either a result or an error.
 */
#ifndef ALIBABACLOUD_OSS_UTILS_OUTCOME_H
#define ALIBABACLOUD_OSS_UTILS_OUTCOME_H

#include <utility>

namespace AlibabaCloud {
namespace OSS {

template <typename E, typename R>
class Outcome {
public:
    Outcome() : success_(true) {}
    Outcome(const E &e) : e_(e), success_(false) {}
    Outcome(E &&e) : e_(std::move(e)), success_(false) {}
    Outcome(const R &r) : r_(r), success_(true) {}
    Outcome(R &&r) : r_(std::move(r)), success_(true) {}
    Outcome(const Outcome &other) = default;
    Outcome(Outcome &&other) = default;
    Outcome &operator=(const Outcome &other) = default;
    Outcome &operator=(Outcome &&other) = default;
    ~Outcome() = default;

    bool isSuccess() const { return success_; }
    const E &error() const { return e_; }
    const R &result() const { return r_; }
    E &error() { return e_; }
    R &result() { return r_; }

private:
    E e_;
    R r_;
    bool success_;
};

}  // namespace OSS
}  // namespace AlibabaCloud

#endif  // ALIBABACLOUD_OSS_UTILS_OUTCOME_H
