import PalierCore
import PalierCrypto

/// A random but reproducible history of a small neighbourhood: grants and revocations, profiles,
/// posts of every kind, edits, retracts (of posts, edits and hides) and hides by allowed and
/// disallowed keys.
public struct RandomNeighbourhood {
    public let home: SigningKey
    public let neighbour: SigningKey
    public let people: [SigningKey]
    public private(set) var envelopes: [Envelope] = []

    public init(seed: UInt64, size: Int = 40) {
        var random = SeededRandom(seed: seed)
        home = Fixtures.key(1)
        neighbour = Fixtures.key(6)
        people = (2...5).map { Fixtures.key(UInt64($0)) }
        let buildings = [home, neighbour]
        var posts: [(Envelope, SigningKey)] = []

        func time() -> UInt64 { Fixtures.epoch + UInt64.random(in: 0..<3_600_000, using: &random) }

        for _ in 0..<size {
            let building = buildings.randomElement(using: &random)!
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<18:
                let role: Role? = Bool.random(using: &random) || Int.random(in: 0..<4, using: &random) > 0
                    ? Role.allCases.randomElement(using: &random)! : nil
                envelopes.append(Fixtures.grant(
                    role, to: people.randomElement(using: &random)!.publicKey, by: building,
                    name: "voisin \(Int.random(in: 0..<9, using: &random))", at: time(),
                    lifetime: UInt64.random(in: 1...400, using: &random) * Fixtures.day
                ))
            case 18..<22:
                envelopes.append(Fixtures.profile(of: building, name: "Immeuble \(Int.random(in: 0..<99, using: &random))", at: time()))
            case 22..<60:
                let author = Bool.random(using: &random) ? building : people.randomElement(using: &random)!
                let kind = Kind.contentKinds.randomElement(using: &random)!
                let at = time()
                let counter = UInt16.random(in: 0..<4, using: &random)
                let lifetime = UInt64.random(in: 1...90, using: &random) * Fixtures.day
                let scope: Scope = Int.random(in: 0..<5, using: &random) == 0 ? .building : .neighbourhood
                let number = Int.random(in: 0..<1000, using: &random)
                // One post in seven is scheduled to show up to a day later (from the draws
                // already made, so that the worlds of earlier seeds stay the same).
                let post = Fixtures.post(
                    kind, by: author, in: building.publicKey, at: at, counter: counter, lifetime: lifetime, scope: scope,
                    title: "post \(number)", showsFrom: number % 7 == 0 ? at + UInt64(number % 24) * 3_600_000 : nil
                )
                envelopes.append(post)
                posts.append((post, author))
            case 60..<75 where !posts.isEmpty:
                let (post, author) = posts.randomElement(using: &random)!
                let editor = Int.random(in: 0..<5, using: &random) == 0 ? people.randomElement(using: &random)! : author
                let number = Int.random(in: 0..<1000, using: &random)
                let at = max(time(), post.timestamp.millis)
                // One edit in five takes its post off the screens early.
                let until = number % 5 == 0 ? min(at + UInt64(number % 72 + 1) * 3_600_000, post.expiresAt) : nil
                envelopes.append(Fixtures.edit(
                    post, by: editor, title: "edit \(number)", at: at,
                    showsUntil: until.flatMap { $0 > (post.content.postContent?.showsFrom ?? 0) ? $0 : nil }
                ))
            case 75..<87 where !posts.isEmpty:
                // A post, an edit or a hide (taken back), each a third of the time.
                let pick = Int.random(in: 0..<3, using: &random)
                let target = pick == 0 ? posts.randomElement(using: &random)!
                    : envelopes.filter { $0.kind == (pick == 1 ? .edit : .hide) }.randomElement(using: &random)
                        .map { ($0, Self.signer(of: $0, among: people + buildings)) }
                        ?? posts.randomElement(using: &random)!
                let retractor = Int.random(in: 0..<4, using: &random) == 0 ? people.randomElement(using: &random)! : target.1
                envelopes.append(Fixtures.retract(target.0, by: retractor, in: target.0.building, at: max(time(), target.0.timestamp.millis)))
            case 87..<100 where !posts.isEmpty:
                let (post, _) = posts.randomElement(using: &random)!
                let hider = [building, building, people.randomElement(using: &random)!].randomElement(using: &random)!
                envelopes.append(Fixtures.hide(post, by: hider, for: building.publicKey, at: time()))
            default:
                continue
            }
        }
    }

    static func signer(of envelope: Envelope, among keys: [SigningKey]) -> SigningKey {
        keys.first { $0.publicKey == envelope.author }!
    }
}
