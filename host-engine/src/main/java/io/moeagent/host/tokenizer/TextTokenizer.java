package io.moeagent.host.tokenizer;

/** Text to token ids and back, plus the model's prompt format. */
public interface TextTokenizer extends AutoCloseable {
    /** Token ids of {@code text}, no special tokens added, never truncated. */
    long[] encode(String text);

    /** Text of {@code ids}, special tokens dropped. */
    String decode(long[] ids);

    /** The prompt the model should see for one user message: ChatML for chat models, the text itself otherwise. */
    String formatPrompt(String userMessage);

    @Override
    void close();
}
