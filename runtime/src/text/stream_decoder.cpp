#include "text/stream_decoder.h"

#include "text/utf8.h"

namespace qwenc {

namespace {
const char kReplacement[] = "\xEF\xBF\xBD";
}

std::string StreamDecoder::push(int32_t id) {
    if (skip_special_ && tok_.is_special(id)) return "";
    pending_ += tok_.token_bytes(id);
    return take(false);
}

std::string StreamDecoder::flush() { return take(true); }

std::string StreamDecoder::take(bool final) {
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
        const int n = utf8_sequence_length(static_cast<unsigned char>(pending_[i]));
        if (n == 0) {
            out += kReplacement;
            i++;
            continue;
        }
        if (i + size_t(n) > pending_.size()) {
            // Incomplete: wait for more bytes unless this is the end, or the
            // bytes so far already cannot continue the character.
            bool can_continue = true;
            for (size_t k = i + 1; k < pending_.size(); k++)
                can_continue = can_continue && (static_cast<unsigned char>(pending_[k]) & 0xC0) == 0x80;
            if (!final && can_continue) break;
            out += kReplacement;
            i++;
            continue;
        }
        const std::string ch = pending_.substr(i, size_t(n));
        if (utf8_first_invalid(ch) != std::string::npos) {
            out += kReplacement;
            i++;
            continue;
        }
        out += ch;
        i += size_t(n);
    }
    pending_.erase(0, i);
    return out;
}

}  // namespace qwenc
