// The OssFfiObjectStream extension (an std::istream over the prefetching reader): the whole
// object read through std::istream::read into the caller's memory (CRC64 verified at the end),
// lines through std::getline, seekg/tellg from the end and the middle, a missing key that fails
// the stream with NoSuchKey, and a window smaller than the part size refused as ValidateError.
// Run by tests/cpp_api.rs with OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_AK,
// OSS_TEST_SK.
#include <alibabacloud/oss/OssClient.h>
#include <alibabacloud/oss/OssFfiObjectStream.h>

#include <cstdio>
#include <string>
#include <vector>

#include "check.hpp"

namespace oss = AlibabaCloud::OSS;

int main()
{
    const std::string endpoint = env("OSS_TEST_ENDPOINT"), bucket = env("OSS_TEST_BUCKET"), key = env("OSS_TEST_KEY");
    oss::InitializeSdk();
    {
        oss::ClientConfiguration conf;
        oss::OssClient client(endpoint, env("OSS_TEST_AK"), env("OSS_TEST_SK"), conf);
        if (std::getenv("OSS_TEST_CORRUPTED")) {
            // The object's bytes no longer match its CRC64: an exact read of it fails the stream,
            // its last byte withheld, and says why.
            oss::OssFfiObjectStream bad(client, bucket, key);
            CHECK(bad.ok() && bad.size() > 0, bad.error().Message());
            const size_t n = static_cast<size_t>(bad.size());
            std::vector<char> all(n);
            bad.read(all.data(), static_cast<std::streamsize>(n));
            CHECK(!bad && static_cast<size_t>(bad.gcount()) == n - 1, "the exact read of a corrupted object fails");
            CHECK(bad.error().Code() == "CrcCheckError", "CrcCheckError: " + bad.error().Code());
            CHECK(!bad.verified(), "not verified");
            goto done;
        }
        oss::GetObjectRequest get(bucket, key);
        oss::GetObjectOutcome whole = client.GetObject(get);
        CHECK(whole.isSuccess(), "GetObject");
        std::string want;
        {
            std::istream &body = *whole.result().Content();
            want.assign(std::istreambuf_iterator<char>(body), std::istreambuf_iterator<char>());
        }
        const size_t size = want.size();

        oss::OssFfiReaderOptions small;
        small.partSize = 64 * 1024;
        small.maxWindow = 512 * 1024;
        oss::OssFfiObjectStream in(client, bucket, key, small);
        CHECK(in.ok() && in.size() == static_cast<int64_t>(size), in.error().Message());
        std::vector<char> got(size + 10);
        in.read(got.data(), static_cast<std::streamsize>(got.size()));
        CHECK(static_cast<size_t>(in.gcount()) == size, "read the whole object");
        CHECK(std::string(got.data(), size) == want, "the bytes of GetObject");
        CHECK(in.eof() && in.error().Code().empty(), "the end, not an error: " + in.error().Code());
        CHECK(in.verified(), "CRC64 verified at the end");

        in.clear();
        in.seekg(-1000, std::ios_base::end);
        CHECK(static_cast<size_t>(in.tellg()) == size - 1000, "tellg after seekg from the end");
        std::string tail(1000, '\0');
        in.read(&tail[0], 1000);
        CHECK(in.gcount() == 1000 && tail == want.substr(size - 1000), "the last 1000 bytes");
        in.seekg(12345);
        char c = 0;
        in.get(c);
        CHECK(c == want[12345] && in.tellg() == std::streampos(12346), "get after seekg, and tellg");
        in.seekg(10, std::ios_base::cur);
        in.get(c);
        CHECK(c == want[12356], "seekg from the position");
        // Back within the buffer, then a large read straight into the caller's memory, then
        // positions after it.
        in.seekg(-7, std::ios_base::cur);
        in.get(c);
        CHECK(c == want[12350] && in.tellg() == std::streampos(12351), "seekg back within the buffer");
        std::vector<char> big(300000);
        in.read(big.data(), static_cast<std::streamsize>(big.size()));
        CHECK(std::string(big.data(), big.size()) == want.substr(12351, big.size()), "a large read");
        CHECK(in.tellg() == std::streampos(12351 + 300000), "tellg after a large read");
        in.get(c);
        CHECK(c == want[12351 + 300000], "get after a large read");
        in.seekg(-2, std::ios_base::cur);
        in.get(c);
        CHECK(c == want[12351 + 300000 - 1], "seekg back after a large read");

        // Exactly size() bytes: no read returns the end, yet the end's CRC64 check runs.
        oss::OssFfiObjectStream exact(client, bucket, key, small);
        std::vector<char> all(size);
        exact.read(all.data(), static_cast<std::streamsize>(size));
        CHECK(exact && static_cast<size_t>(exact.gcount()) == size, "read exactly size() bytes");
        CHECK(std::string(all.data(), size) == want, "the bytes of an exact read");
        CHECK(exact.verified(), "an exact read of the whole object is CRC64 verified");

        // std::getline over the whole object (it is binary: lines are whatever '\n' splits).
        oss::OssFfiObjectStream lines(client, bucket, key);
        std::string line, joined;
        while (std::getline(lines, line)) {
            joined += line;
            joined += '\n';
        }
        if (!want.empty() && want[size - 1] != '\n') {
            joined.erase(joined.size() - 1);
        }
        CHECK(joined == want, "getline");

        oss::OssFfiObjectStream missing(client, bucket, key + ".missing");
        CHECK(!missing.ok() && missing.fail() && missing.error().Code() == "NoSuchKey", missing.error().Code());

        oss::OssFfiReaderOptions bad;
        bad.partSize = 1024 * 1024;
        bad.maxWindow = 64 * 1024;
        oss::OssFfiObjectStream refused(client, bucket, key, bad);
        CHECK(!refused.ok() && refused.error().Code() == "ValidateError", refused.error().Code());
    }
done:
    oss::ShutdownSdk();
    if (failures) {
        std::fprintf(stderr, "cpp object_stream: %d checks failed\n", failures);
        return 1;
    }
    std::printf("cpp object_stream: all checks passed\n");
    return 0;
}
