export { EmptySchedule } from './empty-schedule.js';
export { Interrupt } from './interrupt.js';
