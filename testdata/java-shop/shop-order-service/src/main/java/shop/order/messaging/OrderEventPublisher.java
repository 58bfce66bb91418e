package shop.order.messaging;

import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

@Component
public class OrderEventPublisher {
    public static final String EXCHANGE = "shop.exchange"; // expect: constant EXCHANGE shop.exchange
    public static final String ROUTING_KEY = "order." + "created"; // expect: constant ROUTING_KEY order.created

    @Autowired // expect: field rabbitTemplate:RabbitTemplate @Autowired
    private RabbitTemplate rabbitTemplate;

    public void orderCreated(String orderId) {
        String message = "{\"orderId\":\"" + orderId + "\"}";
        rabbitTemplate.convertAndSend(EXCHANGE, ROUTING_KEY, message); // expect: call rabbitTemplate.convertAndSend arg0=shop.exchange arg1=order.created arg2={"orderId":"{}"}
    }
}
