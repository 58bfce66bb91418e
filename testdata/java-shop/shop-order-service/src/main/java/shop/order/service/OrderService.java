package shop.order.service;

import shop.order.entity.Order;

// expect: type shop.order.service.OrderService kind=interface
public interface OrderService {
    Order getOrder(String orderId);

    Order createOrder(Order order);

    int cancelOrders(String accountId);
}
