/*
 * oss_ffi/cxx/OssFfiObjectStream.h - an oss-ffi EXTENSION, not part of the official Alibaba Cloud OSS
 * C++ SDK (hence the OssFfi prefix of every name in it): an object read as a std::istream through
 * the library's prefetching reader (oss_reader_t in oss_ffi.h).
 *
 *     OssFfiObjectStream in(client, "bucket", "key");   // sends a HEAD; no byte yet
 *     if (!in.ok()) { ... in.error().Code() ... }
 *     std::string line;
 *     while (std::getline(in, line)) { ... }
 *     if (!in.error().Code().empty()) { ... }           // a read failed (not just the end)
 *
 * Sequential reads keep several ranged GETs in flight (a window that grows to the reader's largest
 * window, bounded by the client's memory budget); a seekg elsewhere collapses it and the next read
 * fetches what it asks for plus a small read-ahead. Every GET is pinned to the ETag of the opening
 * HEAD ("ObjectChanged" if the object changes), and a read from the start to the end is checked
 * against the whole object's CRC64 ("CrcCheckError" from the read that would have been the end).
 * No exception: a failure ends the stream (eof/fail bits) and is kept in error().
 *
 * Threads: one stream per thread (like any std::istream); Cancel() may be called from any thread.
 */
#ifndef OSS_FFI_CXX_OSSFFIOBJECTSTREAM_H
#define OSS_FFI_CXX_OSSFFIOBJECTSTREAM_H

#include <oss_ffi/cxx/detail/Namespace.h>

#include <cstdint>
#include <istream>
#include <streambuf>
#include <string>
#include <vector>

#include <oss_ffi.h>

#include <oss_ffi/cxx/OssClient.h>
#include <oss_ffi/cxx/OssError.h>
#include <oss_ffi/cxx/detail/Bridge.h>
#include <oss_ffi/cxx/detail/Handle.h>

OSS_FFI_CXX_NS_BEGIN

/* How far an OssFfiObjectStreamBuf fetches ahead; 0 keeps the library's default (1 MiB parts, a
 * 64 MiB largest window, a 64 KiB read-ahead). */
struct OssFfiReaderOptions {
    uint64_t partSize = 0;
    uint64_t maxWindow = 0;
    uint64_t readAhead = 0;
};

/* The std::streambuf over one oss_reader_t (get area only; seekable). */
class OssFfiObjectStreamBuf : public std::streambuf {
public:
    OssFfiObjectStreamBuf(const OssClient &client, const std::string &bucket, const std::string &key,
                          const OssFfiReaderOptions &options = OssFfiReaderOptions(), size_t bufferSize = 256 * 1024)
        : buffer_(bufferSize ? bufferSize : 1)
    {
        const oss_client_t *c = client.OssFfiClientHandle();
        if (!c) {
            error_ = OssError("ClientError:Internal", "the client could not be set up");
            return;
        }
        if (!detail::noNul({{"bucket", &bucket}, {"key", &key}}, error_)) {
            return;
        }
        oss_get_object_request_t *rawRequest = nullptr;
        if (detail::failed(oss_get_object_request_new(bucket.c_str(), key.c_str(), &rawRequest), error_)) {
            return;
        }
        detail::GetRequestHandle request(rawRequest);
        oss_reader_options_t *rawOptions = nullptr;
        if (detail::failed(oss_reader_options_new(&rawOptions), error_)) {
            return;
        }
        OptionsHandle opts(rawOptions);
        if ((options.partSize && detail::failed(oss_reader_options_set_part_size(opts.get(), options.partSize), error_)) ||
            (options.maxWindow &&
             detail::failed(oss_reader_options_set_max_window(opts.get(), options.maxWindow), error_)) ||
            (options.readAhead &&
             detail::failed(oss_reader_options_set_read_ahead(opts.get(), options.readAhead), error_))) {
            return;
        }
        oss_reader_t *raw = nullptr;
        if (detail::failed(oss_client_open_reader(c, request.get(), opts.get(), &raw), error_)) {
            return;
        }
        reader_.reset(raw);
    }

    /* Opened (the HEAD answered) and no read failed. */
    bool ok() const { return static_cast<bool>(reader_) && error_.Code().empty(); }
    /* Why it is not ok (an empty Code() when it is). */
    const OssError &error() const { return error_; }
    /* The bytes readable (the object's size); -1 when not opened. */
    int64_t size() const { return oss_reader_size(reader_.get()); }
    /* Whether a read reached the end and the whole object's CRC64 matched the server's. */
    bool verified() const
    {
        oss_object_meta_t *raw = nullptr;
        OssError ignored;
        if (!reader_ || detail::failed(oss_reader_meta(reader_.get(), &raw), ignored)) {
            return false;
        }
        detail::MetaHandle meta(raw);
        return oss_object_meta_verified(meta.get());
    }
    /* Stops a read in progress and every later one ("Cancelled"); from any thread. */
    void Cancel() const { oss_reader_cancel(reader_.get()); }

protected:
    int_type underflow() override
    {
        if (gptr() < egptr()) {
            return traits_type::to_int_type(*gptr());
        }
        size_t n = readSome(buffer_.data(), buffer_.size());
        if (n == 0) {
            return traits_type::eof();
        }
        setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
        return traits_type::to_int_type(*gptr());
    }

    /* Large reads go straight into the caller's memory, past the buffer. */
    std::streamsize xsgetn(char_type *s, std::streamsize count) override
    {
        std::streamsize done = 0;
        while (done < count) {
            std::streamsize buffered = egptr() - gptr();
            if (buffered > 0) {
                std::streamsize k = buffered < count - done ? buffered : count - done;
                traits_type::copy(s + done, gptr(), static_cast<size_t>(k));
                gbump(static_cast<int>(k));
                done += k;
                continue;
            }
            setg(buffer_.data(), buffer_.data(), buffer_.data());  // the buffer holds nothing now
            size_t n = readSome(s + done, static_cast<size_t>(count - done));
            if (n == 0) {
                break;
            }
            done += static_cast<std::streamsize>(n);
        }
        if (done > 0 && done == count && gptr() == egptr() && ok() && oss_reader_tell(reader_.get()) >= size()) {
            // Filled up to the last byte (read(buf, size()): no read ever returns the end): the
            // read of the end runs the whole-object CRC64 check now. When it fails, the last
            // byte is withheld so that the stream fails (error() says why) instead of a silent
            // success with unverified bytes.
            char probe = 0;
            if (readSome(&probe, 1) == 0 && !error_.Code().empty()) {
                return done - 1;
            }
        }
        return done;
    }

    /* A position within the buffer moves in it (tellg costs nothing and keeps the reader's
     * window); anywhere else is a seek of the reader. */
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override
    {
        if (!(which & std::ios_base::in) || !reader_) {
            return pos_type(off_type(-1));
        }
        const int64_t end = oss_reader_tell(reader_.get());  // the reader is past the buffered bytes
        const int64_t bufStart = end - static_cast<int64_t>(egptr() - eback());
        const int64_t here = end - static_cast<int64_t>(egptr() - gptr());
        const int64_t from = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? here : size();
        const int64_t target = from + static_cast<int64_t>(off);
        if (target < 0) {
            return pos_type(off_type(-1));
        }
        if (target >= bufStart && target <= end) {
            setg(eback(), eback() + (target - bufStart), egptr());
            return pos_type(static_cast<off_type>(target));
        }
        uint64_t pos = 0;
        OssError e;
        if (detail::failed(oss_reader_seek(reader_.get(), target, 0, &pos), e)) {
            return pos_type(off_type(-1));
        }
        setg(buffer_.data(), buffer_.data(), buffer_.data());
        return pos_type(static_cast<off_type>(pos));
    }

    pos_type seekpos(pos_type pos, std::ios_base::openmode which) override
    {
        return seekoff(off_type(pos), std::ios_base::beg, which);
    }

    std::streamsize showmanyc() override
    {
        int64_t left = size() - oss_reader_tell(reader_.get());
        return left > 0 ? static_cast<std::streamsize>(left) : -1;
    }

private:
    typedef detail::Handle<oss_reader_t, oss_reader_free> ReaderHandle;
    typedef detail::Handle<oss_reader_options_t, oss_reader_options_free> OptionsHandle;

    /* One C read; 0 at the end or on an error (kept in error_). */
    size_t readSome(char *out, size_t len)
    {
        if (!ok() || len == 0) {
            return 0;
        }
        size_t n = 0;
        if (detail::failed(oss_reader_read(reader_.get(), reinterpret_cast<uint8_t *>(out), len, &n), error_)) {
            return 0;
        }
        return n;
    }

    ReaderHandle reader_;
    std::vector<char> buffer_;
    OssError error_;
};

/* A std::istream over an OssFfiObjectStreamBuf (see the top of this file). */
class OssFfiObjectStream : public std::istream {
public:
    OssFfiObjectStream(const OssClient &client, const std::string &bucket, const std::string &key,
                       const OssFfiReaderOptions &options = OssFfiReaderOptions())
        : std::istream(nullptr), buf_(client, bucket, key, options)
    {
        rdbuf(&buf_);
        if (!buf_.ok()) {
            setstate(std::ios_base::failbit);
        }
    }

    bool ok() const { return buf_.ok(); }
    const OssError &error() const { return buf_.error(); }
    int64_t size() const { return buf_.size(); }
    bool verified() const { return buf_.verified(); }
    void Cancel() const { buf_.Cancel(); }

private:
    OssFfiObjectStreamBuf buf_;
};

OSS_FFI_CXX_NS_END

#endif  // OSS_FFI_CXX_OSSFFIOBJECTSTREAM_H
