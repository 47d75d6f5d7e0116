/** The origin tests call the Worker at (its own module so every support module can import it). */
export const ORIGIN = "http://registry.test";
