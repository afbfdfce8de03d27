/*
 * oss_ffi/cxx/utils/Outcome.h - Outcome<E, R>: either a result or an error.
 */
#ifndef OSS_FFI_CXX_UTILS_OUTCOME_H
#define OSS_FFI_CXX_UTILS_OUTCOME_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <utility>

OSS_FFI_CXX_NS_BEGIN

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

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_UTILS_OUTCOME_H
