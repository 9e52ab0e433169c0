/// The organisation whose page is moderated, as named in messages.
public struct Organisation: Sendable, Equatable {
    public var name: String
    public var contact: String

    public init(name: String = "our team", contact: String = "a private message to our page") {
        self.name = name
        self.contact = contact
    }
}
