// history_cache.h - what the engine's temporal history of one instance holds, so that a render can continue it
// instead of replaying the frames it already ran.
//
// A render at t runs a chain of source frames anchor .. t through the engine after a reset (neural_style.cpp says
// which anchor). The cache remembers the chain the engine ran last: a key (the source clip, the anchor and the settings
// that shape the history) and one entry per frame, a hash of the pixels the engine got (or kSkipped for a frame that
// was not run). When the next render's chain has the same key and the held entries are the start of its own, the
// engine already holds that history: only the frames after them need to run, and the result is bit-identical to
// running the whole chain. It holds at most one chain, one 64-bit entry per frame of it.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ofx_api.h"

namespace sfofx {

class HistoryCache {
public:
    /// Entry of a chain frame that was not run (missing, or not the size and depth of the frame rendered).
    static constexpr uint64_t kSkipped = 0;

    struct Key {
        OfxImageClipHandle clip = nullptr;
        OfxTime anchor = 0;    // time of the chain's first frame
        std::string settings;  // everything besides the frames that shapes the history (model, smoothing, ...)

        bool operator==(const Key& o) const
        {
            return clip == o.clip && std::fabs(anchor - o.anchor) < 1e-6 && settings == o.settings;
        }
    };

    /// How many of `wanted` (the entries of the chain's frames before t, under `key`) the engine already holds, in
    /// order from the anchor; -1 when its history is something else (reset it and run them all).
    int Reusable(const Key& key, const std::vector<uint64_t>& wanted) const
    {
        if (!valid_ || !(key == key_) || entries_.size() > wanted.size()) return -1;
        for (size_t i = 0; i < entries_.size(); ++i)
            if (entries_[i] != wanted[i]) return -1;
        return (int)entries_.size();
    }

    /// The history was reset for a new chain.
    void Restart(const Key& key)
    {
        valid_ = true;
        key_ = key;
        entries_.clear();
    }

    /// One more frame of the chain ran through the engine (or was skipped).
    void Append(uint64_t entry)
    {
        if (valid_) entries_.push_back(entry);
    }

    /// The engine's history is no longer known (a style load, a failed frame).
    void Forget()
    {
        valid_ = false;
        entries_.clear();
    }

private:
    bool valid_ = false;
    Key key_;
    std::vector<uint64_t> entries_;
};

}  // namespace sfofx
