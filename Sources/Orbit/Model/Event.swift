/// One line of a cart or an order.
public struct LineItem: Hashable, Sendable, Codable {
    public var sku: String
    public var category: String?
    public var quantity: Int64
    /// Unit price in minor units of the event's currency.
    public var price: Int64

    public init(sku: String, category: String? = nil, quantity: Int64, price: Int64) {
        self.sku = sku
        self.category = category
        self.quantity = quantity
        self.price = price
    }
}

/// Something that happened to a customer. The id is the idempotency key: the same id is applied at most once.
public struct Event: Hashable, Sendable {
    public var id: String
    /// `signup`, `purchase`, `refund`, `referral`, `visit`, `review`, `survey`, or any custom type.
    public var type: String
    public var customerID: String
    public var at: Instant
    /// For purchases and refunds.
    public var total: Money?
    public var orderID: String?
    public var items: [LineItem]
    /// Every other field, passed to the rules as event data.
    public var data: [String: JSONValue]

    public init(
        id: String, type: String, customerID: String, at: Instant, total: Money? = nil, orderID: String? = nil,
        items: [LineItem] = [], data: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.type = type
        self.customerID = customerID
        self.at = at
        self.total = total
        self.orderID = orderID
        self.items = items
        self.data = data
    }
}
