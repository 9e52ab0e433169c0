import CMalloc

/// The C heap as glibc's malloc sees it (`mallinfo2`), summed over every arena: bytes handed
/// out and bytes free but still held. Logged at each memory prune so a soak can tell a leak
/// (in use grows) from fragmentation (free grows, in use flat) without a profiler.
struct HeapStatistics: Sendable {
    var inUse: Int
    var free: Int

    static func current() -> HeapStatistics {
        let info = mallinfo2()
        // uordblks: allocated by malloc from arenas; hblkhd: mmap'd blocks (always in use).
        // fordblks: free chunks inside arenas (held, not returned to the kernel).
        return HeapStatistics(inUse: Int(info.uordblks + info.hblkhd), free: Int(info.fordblks))
    }

    /// Gives free heap pages back to the kernel: glibc's `malloc_trim(0)` shrinks the top of
    /// every arena and returns the whole free pages inside them. After a prune frees many
    /// author entries, this keeps the resident size following what is in use instead of
    /// what glibc's per-thread arenas once held (docs/RELIABILITY.md, "A prune a minute").
    /// Returns whether any memory was released.
    @discardableResult
    static func releaseFreePages() -> Bool { malloc_trim(0) == 1 }

    static func mebibytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}
