import FuzzSupport
import PalierCore
import PalierScreen

/// What a screen is sent, from a stranger's envelopes: the input is the body of an `envelopes`
/// sync message; every envelope that decodes goes into a view, the view into a playlist at
/// several instants and lead times, and the playlist into feed lines. Nothing may trap, and
/// every line is one line of JSON.
let validator = EnvelopeValidator(crypto: TrustingCrypto())

@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard case .known(.envelopes(let list))? = try? SyncMessage.decode([SyncMessage.MessageType.envelopes.rawValue] + bytes(data, size)) else {
        return 0
    }
    let envelopes = list.compactMap { try? validator.open($0) }
    guard let viewer = envelopes.first?.building else { return 0 }
    // The screen follows every building that sent something.
    let policy = FederationPolicy(followed: Set(envelopes.map(\.building)), blocked: [])
    let instants = clocks + envelopes.map(\.content.createdAt)
    var previous = Playlist(items: [], nextChange: nil)
    for now in instants {
        let view = ViewRules.view(of: envelopes, now: now, viewer: viewer)
        for lead in [0, 7 * Limits.millisPerDay, UInt64.max] {
            let configuration = ScreenConfiguration(eventLeadTimeMillis: lead)
            let playlist = PlaylistRules.playlist(view: view, now: now, viewer: viewer, configuration: configuration, policy: policy)
            if let change = playlist.nextChange { invariant(change > now, "the next change is not after now") }
            for event in PlaylistDiff.events(from: previous, to: playlist, at: now) + [.snapshot(items: playlist.items, at: now)] {
                let line = event.line()
                invariant(line.last == "\n" && line.dropLast().allSatisfy { $0 != "\n" }, "a feed line is not one line")
            }
            previous = playlist
        }
    }
    return 0
}
