import PalierCore

/// One item as a screen shows it: display-ready, text already made safe.
public struct ScreenItem: Hashable, Sendable, Codable {
    public struct Author: Hashable, Sendable, Codable {
        public var name: String
        /// The role the building granted, or `building` for the building itself.
        public var role: String
        /// True for the building itself and the roles that speak for an institution
        /// (admin, council, syndic, landlord, elevator, city): screens mark them as official.
        public var verified: Bool
    }

    public struct Event: Hashable, Sendable, Codable {
        public var start: UInt64
        public var end: UInt64
        public var place: String
    }

    /// An image of the post, once this node holds it.
    public struct Image: Hashable, Sendable, Codable {
        /// The blob's hash (64 hex digits).
        public var blob: String
        /// Its media type, e.g. image/jpeg.
        public var type: String
        public var width: Int
        public var height: Int
        /// What it shows, for those who cannot see it (screen-safe text).
        public var alt: String
        /// Where the kiosk page serves it (`/blobs/<hash>.jpg`).
        public var url: String
        /// The file, for signage players reading the feed socket (absent in memory).
        public var path: String?

        public init(blob: String, type: String, width: Int, height: Int, alt: String, url: String, path: String?) {
            self.blob = blob
            self.type = type
            self.width = width
            self.height = height
            self.alt = alt
            self.url = url
            self.path = path
        }
    }

    /// A post's link: screens show it as a QR code, never as text to click.
    public struct Link: Hashable, Sendable, Codable {
        public var url: String
        /// The host, to print under the code (screen-safe).
        public var host: String
        /// The QR code as a standalone SVG document made by the node (only squares; no text).
        public var qr: String

        public init(url: String, host: String, qr: String) {
            self.url = url
            self.host = host
            self.qr = qr
        }
    }

    /// The post's id (64 hex digits).
    public var id: String
    public var kind: String
    public var title: String
    public var body: String
    public var language: String
    public var author: Author
    /// The name of the building the post comes from.
    public var building: String
    /// True for a post of this node's own building.
    public var local: Bool
    /// 3 alert, 2 flash, 1 notice, 0 the rest. Items with `preempts` interrupt the rotation.
    public var priority: Int
    public var preempts: Bool
    /// When the item is on the playlist: Unix milliseconds, `from` inclusive, `until` exclusive.
    public var from: UInt64
    public var until: UInt64
    /// How long a screen should show it each time round.
    public var displaySeconds: Int
    public var event: Event?
    /// Changes when the content changes (the id of the envelope whose content is shown).
    public var revision: String
    /// The images this node holds, in the post's order (an image still on its way is left out
    /// until it arrives).
    public var images: [Image] = []
    public var link: Link?

    enum CodingKeys: String, CodingKey {
        case id, kind, title, body, language, author, building, local, priority, preempts, from, until, displaySeconds, event, revision, images, link
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(String.self, forKey: .kind)
        title = try c.decode(String.self, forKey: .title)
        body = try c.decode(String.self, forKey: .body)
        language = try c.decode(String.self, forKey: .language)
        author = try c.decode(Author.self, forKey: .author)
        building = try c.decode(String.self, forKey: .building)
        local = try c.decode(Bool.self, forKey: .local)
        priority = try c.decode(Int.self, forKey: .priority)
        preempts = try c.decode(Bool.self, forKey: .preempts)
        from = try c.decode(UInt64.self, forKey: .from)
        until = try c.decode(UInt64.self, forKey: .until)
        displaySeconds = try c.decode(Int.self, forKey: .displaySeconds)
        event = try c.decodeIfPresent(Event.self, forKey: .event)
        revision = try c.decode(String.self, forKey: .revision)
        images = try c.decodeIfPresent([Image].self, forKey: .images) ?? []
        link = try c.decodeIfPresent(Link.self, forKey: .link)
    }

    public init(id: String, kind: String, title: String, body: String, language: String, author: Author, building: String, local: Bool,
                priority: Int, preempts: Bool, from: UInt64, until: UInt64, displaySeconds: Int, event: Event?, revision: String,
                images: [Image] = [], link: Link? = nil) {
        self.id = id
        self.kind = kind
        self.title = title
        self.body = body
        self.language = language
        self.author = author
        self.building = building
        self.local = local
        self.priority = priority
        self.preempts = preempts
        self.from = from
        self.until = until
        self.displaySeconds = displaySeconds
        self.event = event
        self.revision = revision
        self.images = images
        self.link = link
    }
}
