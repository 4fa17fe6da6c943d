import Orbit

/// Reads an event file one chunk ahead: while the replay runs the rules over a chunk, the next one is read and
/// decoded on a Dispatch thread (decoding is a few percent of a replay, on the engine's critical path otherwise).
struct ChunkedEventReader {
    /// The lines of a chunk, in file order: up to the chunk's number of events, and the bad lines among them.
    typealias Chunk = [EventReader.Element]

    private let eventsPerChunk: Int
    private var ahead: Task<(chunk: Chunk, rest: EventReader.Iterator), Never>

    init(_ reader: EventReader, eventsPerChunk: Int) {
        self.eventsPerChunk = eventsPerChunk
        ahead = Self.read(from: reader.makeIterator(), events: eventsPerChunk)
    }

    /// The next chunk, or nil at the end of the file.
    mutating func next() async -> Chunk? {
        let (chunk, rest) = await ahead.value
        guard !chunk.isEmpty else { return nil }
        ahead = Self.read(from: rest, events: eventsPerChunk)
        return chunk
    }

    private static func read(from iterator: EventReader.Iterator, events count: Int)
        -> Task<(chunk: Chunk, rest: EventReader.Iterator), Never>
    {
        Task {
            await runBlocking {
                var iterator = iterator
                var chunk: Chunk = []
                chunk.reserveCapacity(count)
                var events = 0
                while events < count, let element = iterator.next() {
                    chunk.append(element)
                    if case .success = element.result { events += 1 }
                }
                return (chunk, iterator)
            }
        }
    }
}
