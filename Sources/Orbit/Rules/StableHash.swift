/// FNV-1a, 64 bit: a hash that is the same on every machine and in every run (Swift's `Hasher` is seeded per
/// process), for A/B buckets, coupon codes and referral codes that replays must reproduce.
enum StableHash {
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// `length` characters of `alphabet`, drawn from the hash of `text`.
    static func code(_ text: String, alphabet: [Character], length: Int) -> String {
        var hash = fnv1a(text)
        var code = ""
        for _ in 0..<length {
            code.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
        }
        return code
    }
}
