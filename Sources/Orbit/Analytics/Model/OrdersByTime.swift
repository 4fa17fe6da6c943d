extension Customer {
    /// The orders oldest first. The engine keeps them so; a customer built by hand may not, and every analytics
    /// computation walks orders in time order.
    var ordersByTime: [OrderSummary] {
        let orders = self.orders
        for index in orders.indices.dropFirst() where orders[index].at < orders[index - 1].at {
            return orders.sorted { $0.at < $1.at }
        }
        return orders
    }
}
