/// Customers ordered by when something next happens to them without an event: a points batch expires, or an
/// `inactive` lapse comes due. A binary min-heap; stale entries are skipped when popped.
struct LapseSchedule {
    private var heap: [(due: Instant, customerID: String)] = []

    mutating func schedule(_ customerID: String, at due: Instant) {
        heap.append((due, customerID))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry when it is due at or before `instant`.
    mutating func popDue(through instant: Instant) -> (due: Instant, customerID: String)? {
        guard let first = heap.first, first.due <= instant else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].due < heap[smallest].due { smallest = left }
                if right < heap.count, heap[right].due < heap[smallest].due { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
