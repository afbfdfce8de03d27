/*
 * oss_ffi/cxx/detail/Async.h - PRIVATE: the threads of OssClient::GetObjectAsync. Shared
 * by the copies of one OssClient; when the last copy is destroyed it waits for the calls still
 * running (as the official SDK's executor does), so no thread outlives the client.
 */
#ifndef OSS_FFI_CXX_DETAIL_ASYNC_H
#define OSS_FFI_CXX_DETAIL_ASYNC_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

OSS_FFI_CXX_NS_BEGIN
namespace detail {

class AsyncRunner {
public:
    AsyncRunner() = default;
    AsyncRunner(const AsyncRunner &) = delete;
    AsyncRunner &operator=(const AsyncRunner &) = delete;
    ~AsyncRunner()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (std::list<Task>::iterator it = tasks_.begin(); it != tasks_.end(); ++it) {
            if (it->thread.get_id() == std::this_thread::get_id()) {
                it->thread.detach(); /* the last copy was destroyed by its own handler */
            } else if (it->thread.joinable()) {
                it->thread.join();
            }
        }
    }

    /* Runs `task` on a new thread (it must not throw: callers wrap it). */
    void run(const std::function<void()> &task)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (std::list<Task>::iterator it = tasks_.begin(); it != tasks_.end();) {
            if (it->done->load()) {
                it->thread.join();
                it = tasks_.erase(it);
            } else {
                ++it;
            }
        }
        std::shared_ptr<std::atomic<bool> > done = std::make_shared<std::atomic<bool> >(false);
        tasks_.push_back(Task());
        tasks_.back().done = done;
        tasks_.back().thread = std::thread([task, done]() {
            task();
            done->store(true);
        });
    }

private:
    struct Task {
        std::thread thread;
        std::shared_ptr<std::atomic<bool> > done;
    };
    std::mutex mutex_;
    std::list<Task> tasks_;
};

}  // namespace detail
OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_DETAIL_ASYNC_H
