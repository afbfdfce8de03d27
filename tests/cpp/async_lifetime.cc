// GetObjectAsync / GetObjectCallable when the copy the call was made on is destroyed while the
// call runs: the handler's client must stay usable for the whole handler (under ASan a dangling
// one is a heap-use-after-free; without ASan the destroyed copy's storage is zeroed before the
// handler uses it, so a dangling pointer is a client that cannot answer). Run by tests/cpp_api.rs
// with OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_AK, OSS_TEST_SK.
#include <alibabacloud/oss/OssClient.h>

#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <type_traits>

#include "check.hpp"

namespace oss = AlibabaCloud::OSS;

struct Seen {
    bool called = false;
    bool outcomeOk = false;
    bool exists = false;
    bool metaOk = false;
};

// GetObjectAsync on `made` (one of two copies); `destroy` destroys `made` once the call is under
// way; the handler waits for that, then uses its client.
static Seen asyncAfterDestroy(oss::OssClient *made, const std::function<void()> &destroy, const std::string &bucket,
                              const std::string &key)
{
    std::promise<void> destroyed;
    std::shared_future<void> destroyedF = destroyed.get_future().share();
    std::shared_ptr<std::promise<Seen> > seen = std::make_shared<std::promise<Seen> >();
    std::future<Seen> seenF = seen->get_future();
    made->GetObjectAsync(oss::GetObjectRequest(bucket, key),
                         [bucket, key, destroyedF, seen](const oss::OssClient *client, const oss::GetObjectRequest &,
                                         const oss::GetObjectOutcome &outcome,
                                         const std::shared_ptr<const oss::AsyncCallerContext> &) {
                             destroyedF.wait();
                             Seen s;
                             s.called = true;
                             s.outcomeOk = outcome.isSuccess();
                             s.exists = client && client->DoesObjectExist(bucket, key);
                             s.metaOk = client && client->GetObjectMeta(bucket, key).isSuccess();
                             seen->set_value(s);
                         });
    destroy();
    destroyed.set_value();
    return seenF.get();
}

int main()
{
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY"),
                      ak = env("OSS_TEST_AK"), sk = env("OSS_TEST_SK");
    oss::InitializeSdk();
    oss::ClientConfiguration conf;

    // c1 on the heap, copied to c2; the call is made on c1 and c1 is deleted (ASan: a handler
    // given c1 reads freed memory).
    {
        oss::OssClient *c1 = new oss::OssClient(endpoint, ak, sk, conf);
        oss::OssClient *c2 = new oss::OssClient(*c1);
        Seen s = asyncAfterDestroy(c1, [&]() { delete c1; }, bucket, key);
        CHECK(s.called && s.outcomeOk, "the call made on the deleted copy ran");
        CHECK(s.exists && s.metaOk, "the handler's client works after the copy it was called on was deleted");
        delete c2; /* the last copy: waits for the call's thread */
    }
    std::puts("GetObjectAsync on a deleted copy (heap) ok");

    // The same with the call made on the copy, and the destroyed copy's storage zeroed before the
    // handler runs (a handler given the destroyed copy sees a moved-from client, without ASan).
    {
        typename std::aligned_storage<sizeof(oss::OssClient), alignof(oss::OssClient)>::type storage;
        oss::OssClient c1(endpoint, ak, sk, conf);
        oss::OssClient *c2 = new (&storage) oss::OssClient(c1);
        Seen s = asyncAfterDestroy(
            c2,
            [&]() {
                c2->~OssClient();
                std::memset(static_cast<void *>(&storage), 0, sizeof storage);
            },
            bucket, key);
        CHECK(s.called && s.outcomeOk, "the call made on the destroyed copy ran");
        CHECK(s.exists && s.metaOk, "the handler's client works after the copy it was called on was destroyed");
    }
    std::puts("GetObjectAsync on a destroyed copy (zeroed) ok");

    // GetObjectCallable on a copy deleted before the future is read.
    {
        oss::OssClient *c1 = new oss::OssClient(endpoint, ak, sk, conf);
        oss::OssClient c2(*c1);
        oss::GetObjectOutcomeCallable f = c1->GetObjectCallable(oss::GetObjectRequest(bucket, key));
        delete c1;
        oss::GetObjectOutcome o = f.get();
        CHECK(o.isSuccess(), "GetObjectCallable after its copy was deleted: " + o.error().Code());
        CHECK(c2.DoesObjectExist(bucket, key), "the other copy still works");
    }
    // ... and on the only copy.
    {
        oss::OssClient *c1 = new oss::OssClient(endpoint, ak, sk, conf);
        oss::GetObjectOutcomeCallable f = c1->GetObjectCallable(oss::GetObjectRequest(bucket, key));
        delete c1;
        CHECK(f.get().isSuccess(), "GetObjectCallable after its only client was deleted");
    }
    std::puts("GetObjectCallable on a deleted copy ok");

    oss::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "cpp async_lifetime: %d check(s) failed\n", failures);
        return 1;
    }
    std::puts("cpp async_lifetime: all checks passed");
    return 0;
}
